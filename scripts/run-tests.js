#!/usr/bin/env node
'use strict';
/**
 * Runs the compiled tests (dist/test/**\/*.test.js) one file at a time with node's test runner and ends with a
 * single "N passed, N failed" line.
 *
 *   node scripts/run-tests.js [filter...]   only files whose path (relative to dist/test) contains a filter
 *   TEST_GLOB_DIR=cluster                   only dist/test/cluster/ (by default that folder is left out)
 *   TEST_COUNTS_FILE=path                   also write {"passed": N, "failed": N} there
 *
 * Exits non-zero when a test failed, the runner failed, or no test ran.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const TEST_ROOT = path.join(REPO_ROOT, 'dist', 'test');
/** Multi-instance tests need PostgreSQL and time; they run only when asked for. */
const OPT_IN_DIRS = ['cluster'];

function findTestFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTestFiles(full);
    return entry.isFile() && entry.name.endsWith('.test.js') ? [full] : [];
  });
}

/** Unit tests live beside the code they test (dist/libs, dist/apps); integration tests under dist/test. */
const UNIT_ROOTS = ['libs', 'apps'].map((dir) => path.join(REPO_ROOT, 'dist', dir));

function selectFiles(globDir, filters) {
  const candidates = globDir
    ? findTestFiles(path.join(TEST_ROOT, globDir))
    : [...findTestFiles(TEST_ROOT), ...UNIT_ROOTS.flatMap(findTestFiles)];
  const distRoot = path.join(REPO_ROOT, 'dist');
  return candidates
    .map((file) => path.relative(distRoot, file))
    .filter((rel) => globDir || !OPT_IN_DIRS.some((dir) => rel.startsWith(path.join('test', dir) + path.sep)))
    .filter((rel) => filters.length === 0 || filters.some((f) => rel.includes(f)))
    .sort()
    .map((rel) => path.join(distRoot, rel));
}

/** Reads the closing "# pass N" style lines of a TAP report; the last one of each wins. */
function parseTapCounts(tapFile) {
  const counts = { pass: 0, fail: 0, cancelled: 0 };
  if (!fs.existsSync(tapFile)) return counts;
  for (const line of fs.readFileSync(tapFile, 'utf8').split('\n')) {
    const match = /^# (pass|fail|cancelled) (\d+)$/.exec(line.trim());
    if (match) counts[match[1]] = Number(match[2]);
  }
  return counts;
}

function runNodeTest(files, tapFile) {
  const args = [
    '--test',
    '--test-concurrency=1',
    // A hung test fails after 5 minutes instead of holding CI until its own limit.
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('error', (err) => {
      console.error(err);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(signal ? 1 : code));
  });
}

async function main() {
  const files = selectFiles(process.env.TEST_GLOB_DIR, process.argv.slice(2));
  const tapFile = path.join(os.tmpdir(), `run-tests-${process.pid}-${Date.now()}.tap`);
  let exitCode = 1;
  if (files.length === 0) console.error(`No test files found under ${TEST_ROOT} (did tsc run?)`);
  else exitCode = await runNodeTest(files, tapFile);

  const counts = parseTapCounts(tapFile);
  fs.rmSync(tapFile, { force: true });
  // A cancelled test (timeout, crashed file) did not pass: count it as failed.
  const passed = counts.pass;
  const failed = counts.fail + counts.cancelled;
  if (process.env.TEST_COUNTS_FILE) {
    fs.writeFileSync(process.env.TEST_COUNTS_FILE, JSON.stringify({ passed, failed }) + '\n');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = exitCode !== 0 || failed > 0 || passed + failed === 0 ? 1 : 0;
}

main();
