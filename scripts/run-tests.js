#!/usr/bin/env node
'use strict';
/**
 * Runs the compiled tests (dist/test/**\/*.test.js and the unit tests beside the code) with node's test runner,
 * several files at a time (each file is a process of its own, with its own databases, ports and Redis keys; the
 * in-process tiers share a few processes: see GROUPS), and ends a single "N passed, N failed" line (", N skipped"
 * added when tests or suites were skipped; their names are listed above it).
 *
 *   node scripts/run-tests.js [filter...]   only files whose path (relative to dist) contains a filter
 *   node scripts/run-tests.js --fast-tier   prints the fast tier's files (no child process anywhere), runs nothing
 *   TEST_GLOB_DIR=cluster                   only dist/test/cluster/ (by default that folder is left out)
 *   TEST_COUNTS_FILE=path                   also write {"passed": N, "failed": N, "skipped": N} there
 *   TEST_CONCURRENCY=n                      files run at once (default: the machine's parallelism + 1, 2 to 4;
 *                                           1 with TEST_GLOB_DIR: the cluster suites stop shared servers)
 *
 * A file's output is printed whole when it ends, so that files running together do not interleave; the slowest
 * files of the previous run start first. Exits non-zero when a test failed, a file crashed, or no test ran.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { clearTimeout, setTimeout } = require('node:timers');

const REPO_ROOT = path.resolve(__dirname, '..');
const DIST_ROOT = path.join(REPO_ROOT, 'dist');
const TEST_ROOT = path.join(DIST_ROOT, 'test');
/** Multi-instance tests need PostgreSQL and time; they run only when asked for. */
const OPT_IN_DIRS = ['cluster'];
/** Each file's duration in the last run, so that the longest start first next time (build output, not committed). */
const DURATIONS_FILE = path.join(DIST_ROOT, '.test-durations.json');
/** A hung test fails after 5 minutes instead of holding CI until its own limit. */
const TEST_TIMEOUT_MS = 300_000;
/** A file still running after this long (a handle left open keeps its process alive) is killed and fails. */
const FILE_TIMEOUT_MS = 900_000;

function findTestFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTestFiles(full);
    return entry.isFile() && entry.name.endsWith('.test.js') ? [full] : [];
  });
}

/** Unit tests live beside the code they test (dist/libs, dist/apps); integration tests under dist/test. */
const UNIT_ROOTS = ['libs', 'apps'].map((dir) => path.join(DIST_ROOT, dir));

/** Paths relative to dist/. */
function selectFiles(globDir, filters) {
  const candidates = globDir
    ? findTestFiles(path.join(TEST_ROOT, globDir))
    : [...findTestFiles(TEST_ROOT), ...UNIT_ROOTS.flatMap(findTestFiles)];
  return candidates
    .map((file) => path.relative(DIST_ROOT, file))
    .filter((rel) => globDir || !OPT_IN_DIRS.some((dir) => rel.startsWith(path.join('test', dir) + path.sep)))
    .filter((rel) => filters.length === 0 || filters.some((f) => rel.includes(f)))
    .sort();
}

function concurrency() {
  const asked = Number(process.env.TEST_CONCURRENCY);
  if (Number.isInteger(asked) && asked > 0) return asked;
  // The fault suites stop and start the machine's PostgreSQL and Redis: one file at a time there.
  if (process.env.TEST_GLOB_DIR) return 1;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  // One more than the cores: much of a test file's time is spent waiting (child processes, timers, fakes).
  return Math.min(4, Math.max(2, cores + 1));
}

function readDurations() {
  try {
    return JSON.parse(fs.readFileSync(DURATIONS_FILE, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Reads a file's TAP report: the closing "# pass N" style lines (the last one of each wins) and every test or
 * suite marked "# SKIP" (a skipped suite is not in node's own skipped count, so the lines are counted instead).
 */
function parseTap(text) {
  const counts = { pass: 0, fail: 0, cancelled: 0 };
  const skipped = [];
  for (const line of text.split('\n')) {
    const footer = /^# (pass|fail|cancelled) (\d+)$/.exec(line.trim());
    if (footer) counts[footer[1]] = Number(footer[2]);
    const skip = /^\s*ok \d+ - (.*?) # SKIP\b ?(.*)$/.exec(line);
    if (skip) skipped.push({ name: skip[1].replace(/\\#/g, '#'), reason: skip[2].trim() });
  }
  return { ...counts, skipped };
}

/**
 * A test file under test/ whose every app is built in the test process (`inProcess: true`) and that starts no
 * child process of its own (node:child_process, the command line, a cluster): read from its TypeScript source.
 */
function startsNoProcess(rel) {
  if (!rel.startsWith(`test${path.sep}`)) return false;
  const source = path.join(REPO_ROOT, rel.replace(/\.js$/, '.ts'));
  if (!fs.existsSync(source)) return false;
  const text = fs.readFileSync(source, 'utf8');
  const apps = text.split('startApp(').length - 1;
  const inProcess = text.split('inProcess: true').length - 1;
  return apps === inProcess && !/child_process|cliRunner|startCluster/.test(text);
}

/** Unit specs, medium tests, and the end-to-end files that start no process: what needs no child process. */
function inFastTier(rel) {
  return GROUPS.some((group) => group.member(rel));
}

/**
 * The in-process tiers run in a few processes: loading the app's modules and warming up costs a process more than
 * most of these files take to run. A group is a file that requires its members (their suites run one after
 * another); a member's failure is reported under its own suite names. The end-to-end files that start no process
 * are dealt into `parts` groups so that they still run side by side.
 */
const GROUPS = [
  {
    name: 'unit specs (libs, apps)',
    member: (rel) => UNIT_ROOTS.some((root) => path.join(DIST_ROOT, rel).startsWith(root + path.sep)),
  },
  { name: 'medium tests (test/medium)', member: (rel) => rel.startsWith(path.join('test', 'medium') + path.sep) },
  {
    name: 'in-process end-to-end',
    member: (rel) => !rel.startsWith(path.join('test', 'medium') + path.sep) && startsNoProcess(rel),
    parts: 3,
  },
];

/** Members dealt into `parts` lists in turn, by name. */
function split(members, parts) {
  const lists = Array.from({ length: Math.min(parts, members.length) }, () => []);
  [...members].sort().forEach((rel, i) => lists[i % lists.length].push(rel));
  return lists;
}

/** Files to run: each group of two or more members as one entry (or `parts` entries), every other file as itself. */
function planRuns(files, tmpDir) {
  const runs = [];
  const grouped = new Set();
  for (const group of GROUPS) {
    const members = files.filter(group.member);
    if (members.length < 2) continue;
    const lists = split(members, group.parts ?? 1);
    lists.forEach((list, i) => {
      const name = lists.length > 1 ? `${group.name} ${i + 1} of ${lists.length}` : group.name;
      const entry = path.join(tmpDir, `${name.replace(/\W+/g, '-')}.js`);
      fs.writeFileSync(entry, list.map((rel) => `require(${JSON.stringify(path.join(DIST_ROOT, rel))});`).join('\n'));
      runs.push({ rel: `${name}: ${list.length} files`, file: entry });
    });
    for (const rel of members) grouped.add(rel);
  }
  for (const rel of files) if (!grouped.has(rel)) runs.push({ rel, file: path.join(DIST_ROOT, rel) });
  return runs;
}

/** Runs one file (or group) in its own `node --test`; resolves with its counts, output and wall time. */
function runFile({ rel, file }, tmpDir, index) {
  const tapFile = path.join(tmpDir, `${index}.tap`);
  const args = [
    '--test',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    file,
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const output = [];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      output.push(Buffer.from(`\n[run-tests] still running after ${FILE_TIMEOUT_MS / 1000} s: killed\n`));
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    const finish = (code) => {
      clearTimeout(timer);
      const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
      resolve({
        rel,
        code,
        output: Buffer.concat(output).toString('utf8'),
        ms: Date.now() - started,
        ...parseTap(tap),
      });
    };
    child.on('error', (err) => {
      output.push(Buffer.from(`${err.stack ?? err}\n`));
      finish(1);
    });
    child.on('close', (code, signal) => finish(signal ? 1 : code));
  });
}

async function runAll(files, workers) {
  const previous = readDurations();
  // Longest first (files and groups never timed count as long): short files fill the gaps.
  const hint = ({ rel }) => previous[rel] ?? Infinity;
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-tests-'));
  const queue = planRuns(files, tmpDir).sort((a, b) => hint(b) - hint(a) || a.rel.localeCompare(b.rel));
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const index = next++;
      const result = await runFile(queue[index], tmpDir, index);
      const failedHere = result.code !== 0 || result.fail + result.cancelled > 0;
      const head = `── ${result.rel} (${(result.ms / 1000).toFixed(1)} s)${failedHere ? ' FAILED' : ''}`;
      process.stdout.write(`\n${head}\n${result.output}`);
      results.push(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(workers, queue.length) }, worker));
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  try {
    fs.writeFileSync(
      DURATIONS_FILE,
      JSON.stringify({ ...previous, ...Object.fromEntries(results.map((r) => [r.rel, r.ms])) }) + '\n',
    );
  } catch {
    // Only an ordering hint for the next run.
  }
  return results;
}

async function main() {
  const started = Date.now();
  if (process.argv[2] === '--fast-tier') {
    console.log(selectFiles(undefined, []).filter(inFastTier).join(' '));
    return;
  }
  const files = selectFiles(process.env.TEST_GLOB_DIR, process.argv.slice(2));
  const workers = concurrency();
  let results = [];
  if (files.length === 0) console.error(`No test files found under ${TEST_ROOT} (did tsc run?)`);
  else results = await runAll(files, workers);

  let passed = 0;
  let failed = 0;
  const skipped = [];
  const crashed = [];
  for (const r of results) {
    passed += r.pass;
    // A cancelled test (timeout, crashed file) did not pass: count it as failed.
    failed += r.fail + r.cancelled;
    // A file that exited non-zero without a failed test (killed, crashed outside a test) is a failure of its own.
    if (r.code !== 0 && r.fail + r.cancelled === 0) {
      failed += 1;
      crashed.push(r);
    }
    for (const s of r.skipped) skipped.push({ ...s, rel: r.rel });
  }

  if (results.length > 0) {
    const wall = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`\n${results.length} files in ${wall} s, ${workers} at a time; slowest:`);
    for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
      console.log(`  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.rel}`);
    }
  }
  for (const r of crashed) console.log(`crashed: ${r.rel} (exit code ${r.code})`);
  for (const s of skipped) console.log(`skipped: ${s.rel} › ${s.name}${s.reason ? ` (${s.reason})` : ''}`);
  if (process.env.TEST_COUNTS_FILE) {
    fs.writeFileSync(process.env.TEST_COUNTS_FILE, JSON.stringify({ passed, failed, skipped: skipped.length }) + '\n');
  }
  console.log(`${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`);
  process.exitCode = failed > 0 || passed + failed === 0 || results.some((r) => r.code !== 0) ? 1 : 0;
}

main();
