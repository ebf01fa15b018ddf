/**
 * `npm run bench`: one table of requests/s, p50 and p99, all measured in one run on this machine, on loopback:
 *
 *   bare node:http → GET /api/health → GET /api/users/me (Clerk) → GET /api/v1/me (API key, limit reached and
 *   limit 1,000,000/min) → POST /api/v1/chat/completions through the gateway vs straight to the fake upstream, at
 *   10 connections and at 1 (the gateway's added p50 at both),
 *
 * every row with the serving process's CPU µs per request (from /proc/<pid>/stat) and its ratios against the bare
 * server measured in the same run (the machine is shared: absolute figures move, ratios within one run hold),
 * on the embedded database (PGlite) and on PostgreSQL + Redis (when the servers answer). It is a benchmark, not a
 * test: it never fails (exit code 0 unless it could not run at all). See docs/performance.md.
 *
 * Options (flag or environment variable):
 *   --duration=3        BENCH_DURATION     seconds measured per target
 *   --warmup=1          BENCH_WARMUP       seconds of warm-up per target, thrown away
 *   --connections=10    BENCH_CONNECTIONS  concurrent connections, the same for every target
 *   --databases=auto    BENCH_DATABASES    embedded,postgres (auto: embedded, plus postgres when it and Redis answer)
 *   --database-url=…    BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   --redis-url=…       BENCH_REDIS_URL    (else TEST_REDIS_URL, else redis://127.0.0.1:6379)
 *   --log-level=info    BENCH_LOG_LEVEL    the app's LOG_LEVEL; a list (info,warn) runs each section per level
 *   --only=…            BENCH_ONLY         targets: bare,health,me,me-metrics,v1me-limited,v1me,direct,proxy,gateway,direct-1,
 *                                      proxy-1,gateway-1 (proxy: node:http + undici relaying bytes, the floor)
 *   --profile=DIR       BENCH_PROFILE      sample the app's CPU (as `node --cpu-prof`), write profiles to DIR, summarise
 *   --json=FILE         BENCH_JSON         where the figures are written (default .tmp/bench/results.json)
 *   --rounds=3          BENCH_ROUNDS       measure every target this many times, interleaved, and keep the median
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, startApp, type TestApp } from '../test/support/app';
import { CHAT_BODY, createApiKey, newUserToken, signIn, type Session } from './support/api';
import { startBareServer, startFakeUpstream, startMinimalProxy, type Helper } from './support/children';
import { measure, type LoadResult } from './support/load';
import { formatProfileSummary, summarizeProfile } from './support/profile';
import { DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL, option, postgresAnswers, redisAnswers } from './support/services';

type DatabaseKind = 'embedded' | 'postgres';
type TargetId =
  | 'bare'
  | 'health'
  | 'me'
  | 'me-metrics'
  | 'v1me-limited'
  | 'v1me'
  | 'direct'
  | 'proxy'
  | 'gateway'
  | 'direct-1'
  | 'proxy-1'
  | 'gateway-1';

interface Target {
  id: TargetId;
  label: string;
  /** The row this one is compared with for its goal (req/s ratio), and the ratio it should reach. */
  ref?: { id: TargetId; min: number };
  /** Connections for this row (default: --connections). */
  connections?: number;
}

const TARGETS: Target[] = [
  { id: 'bare', label: 'bare node:http {"status":"ok"}' },
  { id: 'health', label: 'GET /api/health', ref: { id: 'bare', min: 0.75 } },
  { id: 'me', label: 'GET /api/users/me (Clerk session)', ref: { id: 'bare', min: 0.45 } },
  { id: 'v1me-limited', label: 'GET /api/v1/me (key, 100/min reached)', ref: { id: 'bare', min: 0 } },
  { id: 'v1me', label: 'GET /api/v1/me (key, 1,000,000/min)', ref: { id: 'bare', min: 0.45 } },
  // The same request on a second app with METRICS_TOKEN set (per-request timing on): the cost of metrics.
  { id: 'me-metrics', label: 'GET /api/users/me, metrics on', ref: { id: 'me', min: 0 } },
  { id: 'direct', label: 'POST chat/completions, direct to fake' },
  { id: 'proxy', label: 'POST chat/completions, minimal proxy', ref: { id: 'direct', min: 0 } },
  // The gateway's goals are against the minimal proxy of the same run (see the notes under the table).
  { id: 'gateway', label: 'POST /api/v1/chat/completions (gateway)', ref: { id: 'direct', min: 0 } },
  { id: 'direct-1', label: 'POST chat/completions, direct, 1 conn', connections: 1 },
  {
    id: 'proxy-1',
    label: 'POST chat/completions, minimal proxy, 1 conn',
    ref: { id: 'direct-1', min: 0 },
    connections: 1,
  },
  { id: 'gateway-1', label: 'POST chat/completions, gateway, 1 conn', ref: { id: 'direct-1', min: 0 }, connections: 1 },
];

interface Row {
  database: DatabaseKind;
  logLevel: string;
  target: Target;
  result?: LoadResult;
  unavailable?: string;
}

interface Settings {
  durationSec: number;
  warmupSec: number;
  connections: number;
  databases: DatabaseKind[];
  databaseUrl: string;
  redisUrl: string;
  logLevels: string[];
  only: Set<TargetId>;
  profileDir: string | null;
  jsonFile: string;
  rounds: number;
}

async function settings(): Promise<Settings> {
  const args = process.argv.slice(2);
  const databaseUrl = option(
    args,
    'database-url',
    'BENCH_DATABASE_URL',
    process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL,
  );
  const redisUrl = option(args, 'redis-url', 'BENCH_REDIS_URL', process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL);
  const requested = option(args, 'databases', 'BENCH_DATABASES', 'auto');
  let databases: DatabaseKind[];
  if (requested === 'auto') {
    const [pg, redis] = await Promise.all([postgresAnswers(databaseUrl), redisAnswers(redisUrl)]);
    databases = pg && redis ? ['embedded', 'postgres'] : ['embedded'];
    if (!(pg && redis))
      console.log(
        `PostgreSQL (${pg ? 'up' : 'down'}) or Redis (${redis ? 'up' : 'down'}) not answering: embedded database only`,
      );
  } else {
    databases = requested
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean) as DatabaseKind[];
  }
  const only = option(args, 'only', 'BENCH_ONLY', '');
  const profile = option(args, 'profile', 'BENCH_PROFILE', '');
  return {
    durationSec: Number(option(args, 'duration', 'BENCH_DURATION', '3')),
    warmupSec: Number(option(args, 'warmup', 'BENCH_WARMUP', '1')),
    connections: Number(option(args, 'connections', 'BENCH_CONNECTIONS', '10')),
    databases,
    databaseUrl,
    redisUrl,
    logLevels: option(args, 'log-level', 'BENCH_LOG_LEVEL', 'info')
      .split(',')
      .map((l) => l.trim()),
    only: new Set((only ? only.split(',') : TARGETS.map((t) => t.id)) as TargetId[]),
    profileDir: profile ? path.resolve(profile) : null,
    jsonFile: path.resolve(option(args, 'json', 'BENCH_JSON', path.join(REPO_ROOT, '.tmp', 'bench', 'results.json'))),
    rounds: Math.max(1, Number(option(args, 'rounds', 'BENCH_ROUNDS', '3'))),
  };
}

async function main(): Promise<void> {
  const s = await settings();
  if (s.profileDir) fs.mkdirSync(s.profileDir, { recursive: true });
  const header = [
    `Benchmark ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `autocannon on loopback, ${s.connections} connections, ${s.durationSec} s measured after ${s.warmupSec} s warm-up per target${s.rounds > 1 ? `, median of ${s.rounds} interleaved rounds` : ''}; app LOG_LEVEL=${s.logLevels.join(', then ')}`,
  ];
  console.log(header.join('\n'));
  const bare = await startBareServer();
  const rows: Row[] = [];
  try {
    for (const database of s.databases) {
      for (const logLevel of s.logLevels) {
        console.log(
          `\n== ${database === 'embedded' ? 'embedded PGlite' : 'PostgreSQL + Redis'}, LOG_LEVEL=${logLevel}`,
        );
        rows.push(...(await section(s, database, logLevel, bare)));
      }
    }
  } finally {
    await bare.stop();
  }
  const table = formatTable(rows);
  console.log(
    `\n${header.join('\n')}\nload average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n${table}`,
  );
  fs.mkdirSync(path.dirname(s.jsonFile), { recursive: true });
  fs.writeFileSync(
    s.jsonFile,
    JSON.stringify(
      { header, settings: { ...s, only: [...s.only] }, rows: rows.map((r) => ({ ...r, target: r.target.id })), table },
      null,
      2,
    ),
  );
  console.log(`\nFigures written to ${path.relative(process.cwd(), s.jsonFile)}`);
}

/** Starts the fake upstream and the app on one database, measures every target, stops both. */
async function section(
  s: Settings,
  database: DatabaseKind,
  logLevel: string,
  bare: Helper<{ port: number }>,
): Promise<Row[]> {
  // The harness reads these to pick the database and Redis (a fresh database each time).
  if (database === 'postgres') {
    process.env.TEST_DATABASE_URL = s.databaseUrl;
    process.env.TEST_REDIS_URL = s.redisUrl;
  } else {
    delete process.env.TEST_DATABASE_URL;
  }
  const fake = await startFakeUpstream({ FAKE_LOG_LIMIT: '2000' });
  const proxy =
    s.only.has('proxy') || s.only.has('proxy-1') ? await startMinimalProxy(new URL(fake.info.baseUrl).origin) : null;
  const logFile = path.join(REPO_ROOT, '.tmp', 'bench', `app-${database}-${logLevel}.log`);
  fs.rmSync(logFile, { force: true });
  let app: TestApp | null = null;
  let metricsApp: TestApp | null = null;
  const rows: Row[] = [];
  const add = (target: Target, outcome: LoadResult | string) => {
    const row: Row =
      typeof outcome === 'string'
        ? { database, logLevel, target, unavailable: outcome }
        : { database, logLevel, target, result: outcome };
    rows.push(row);
    console.log(`  ${describeRow(row)}`);
  };
  try {
    const appEnv = {
      LOG_LEVEL: logLevel,
      OPENROUTER_BASE_URL: fake.info.baseUrl,
      OPENROUTER_PROVISIONING_API_KEY: fake.info.provisioningKey,
    };
    app = await startApp({
      entry: path.join(__dirname, 'support', 'app-entry.js'),
      redis: database === 'postgres',
      env: {
        ...appEnv,
        APP_LOG_FILE: logFile,
        ...(s.profileDir && {
          APP_CPU_PROFILE: path.join(s.profileDir, `app-${database}-${logLevel}-${Date.now()}.cpuprofile`),
        }),
      },
    });
    const base = app.baseUrl;
    if (s.profileDir && app.pid) process.kill(app.pid, 'SIGUSR2'); // start sampling now that start-up is over
    const load = (url: string, extra: Partial<Parameters<typeof measure>[0]> = {}) =>
      measure({ url, connections: s.connections, durationSec: s.durationSec, warmupSec: s.warmupSec, ...extra });
    const wanted = (id: TargetId) => s.only.has(id);
    const target = (id: TargetId) => TARGETS.find((t) => t.id === id)!;

    const appPid = app.pid;
    // Every target is set up first, then measured: once, or `rounds` times interleaved (the median kept), so that
    // each target sees the same share of whatever else the machine is doing.
    const plans: Array<{ target: Target; run?: () => Promise<LoadResult>; unavailable?: string }> = [];
    const plan = (id: TargetId, run: (() => Promise<LoadResult>) | string) => {
      if (wanted(id))
        plans.push(typeof run === 'string' ? { target: target(id), unavailable: run } : { target: target(id), run });
    };
    plan('bare', () => load(`http://127.0.0.1:${bare.info.port}/`, { pid: bare.pid }));
    plan('health', () => load(`${base}/api/health`, { pid: appPid }));
    const session: Session = await signIn(base, newUserToken('bench').token);
    plan('me', () =>
      load(`${base}/api/users/me`, { pid: appPid, headers: { authorization: `Bearer ${session.token}` } }),
    );
    if (s.only.has('me-metrics')) {
      // A database of its own: the embedded one serves a single process.
      metricsApp = await startApp({
        entry: path.join(__dirname, 'support', 'app-entry.js'),
        redis: database === 'postgres',
        env: { ...appEnv, METRICS_TOKEN: 'bench-metrics-token-0123456789' },
      });
      const metricsBase = metricsApp.baseUrl;
      const metricsSession: Session = await signIn(metricsBase, newUserToken('bench-metrics').token);
      const metricsPid = metricsApp.pid;
      plan('me-metrics', () =>
        load(`${metricsBase}/api/users/me`, {
          pid: metricsPid,
          headers: { authorization: `Bearer ${metricsSession.token}` },
        }),
      );
    }
    if (wanted('v1me-limited')) {
      const limited = await createApiKey(base, session, { name: 'bench limited', rate_limit_per_minute: 100 });
      plan(
        'v1me-limited',
        limited.available
          ? () => load(`${base}/api/v1/me`, { pid: appPid, headers: { 'x-api-key': limited.key } })
          : limited.reason,
      );
    }
    const open = await createApiKey(base, session, { name: 'bench open', rate_limit_per_minute: 1_000_000 });
    plan(
      'v1me',
      open.available
        ? () => load(`${base}/api/v1/me`, { pid: appPid, headers: { 'x-api-key': open.key } })
        : open.reason,
    );
    const chat = { method: 'POST' as const, body: CHAT_BODY };
    const gateway = wanted('gateway') || wanted('gateway-1') ? await gatewayReady(base, open, chat) : 'not asked for';
    for (const [directId, proxyId, gatewayId] of [
      ['direct', 'proxy', 'gateway'],
      ['direct-1', 'proxy-1', 'gateway-1'],
    ] as const) {
      const connections = target(directId).connections ?? s.connections;
      plan(
        directId,
        session.openRouterKey
          ? () =>
              load(`${fake.info.baseUrl}/chat/completions`, {
                ...chat,
                connections,
                pid: fake.pid,
                headers: { authorization: `Bearer ${session.openRouterKey}`, 'content-type': 'application/json' },
              })
          : 'the user has no provisioned OpenRouter key',
      );
      plan(
        proxyId,
        session.openRouterKey && proxy
          ? () =>
              load(`http://127.0.0.1:${proxy.info.port}${new URL(fake.info.baseUrl).pathname}/chat/completions`, {
                ...chat,
                connections,
                pid: proxy.pid,
                headers: { authorization: `Bearer ${session.openRouterKey}`, 'content-type': 'application/json' },
              })
          : 'the user has no provisioned OpenRouter key',
      );
      plan(
        gatewayId,
        gateway === true && open.available
          ? () =>
              load(`${base}/api/v1/chat/completions`, {
                ...chat,
                connections,
                headers: { 'x-api-key': open.key, 'content-type': 'application/json' },
                pid: appPid,
              })
          : String(gateway),
      );
    }

    const results = new Map<TargetId, LoadResult[]>();
    for (let round = 0; round < s.rounds; round++) {
      for (const p of plans) if (p.run) results.set(p.target.id, [...(results.get(p.target.id) ?? []), await p.run()]);
    }
    for (const p of plans) add(p.target, p.run ? medianResult(results.get(p.target.id)!) : p.unavailable!);
  } catch (err) {
    console.error(`  section failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await app?.stop();
    await metricsApp?.stop();
    await proxy?.stop();
    await fake.stop();
  }
  if (s.profileDir) printProfiles(s.profileDir, `app-${database}-${logLevel}-`);
  return rows;
}

/** True when the gateway answers a probe with 200, else why it cannot be measured. */
async function gatewayReady(
  base: string,
  open: Awaited<ReturnType<typeof createApiKey>>,
  chat: { method: 'POST'; body: string },
): Promise<true | string> {
  if (!open.available) return open.reason;
  const probe = await fetch(`${base}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { 'x-api-key': open.key, 'content-type': 'application/json' },
    body: chat.body,
  });
  await probe.arrayBuffer();
  if (probe.status === 404) return 'POST /api/v1/chat/completions not found (gateway not built yet)';
  if (probe.status !== 200) return `the gateway answered ${probe.status} to a probe`;
  return true;
}

/** The round with the median requests/s (its latencies and CPU go with it, so that a row stays one measurement). */
function medianResult(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function printProfiles(dir: string, prefix: string): void {
  if (!fs.existsSync(dir)) return;
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.cpuprofile'))) {
    const full = path.join(dir, file);
    console.log(`\n${formatProfileSummary(full, summarizeProfile(full, 30), 30)}`);
  }
}

// ---- the table ---------------------------------------------------------------------------------

function describeRow(row: Row): string {
  if (!row.result) return `${row.target.label}: not measured (${row.unavailable})`;
  const r = row.result;
  return `${row.target.label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUsPerRequest?.toFixed(0) ?? '?'} µs CPU/req, statuses ${JSON.stringify(r.statuses)}${r.errors ? `, ${r.errors} errors` : ''}`;
}

function formatTable(rows: Row[]): string {
  const lines: string[] = [];
  const head = [
    'database',
    'log',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'statuses',
    '×bare',
    'CPU ×bare',
    'goal',
    '',
  ];
  const body: string[][] = [];
  const notes: string[] = [];
  for (const row of rows) {
    const r = row.result;
    const find = (id: TargetId) =>
      rows.find((o) => o.database === row.database && o.logLevel === row.logLevel && o.target.id === id)?.result;
    const bare = find('bare');
    const ref = row.target.ref ? find(row.target.ref.id) : undefined;
    const ratio = r && ref ? r.rps / ref.rps : undefined;
    const goal = row.target.ref && row.target.ref.min > 0 ? row.target.ref : undefined;
    const met = ratio !== undefined && goal ? ratio >= goal.min : undefined;
    // CPU ratio: bare's CPU time per request over this row's, i.e. the throughput ratio with a core per server.
    const cpuRatio = r?.cpuUsPerRequest && bare?.cpuUsPerRequest ? bare.cpuUsPerRequest / r.cpuUsPerRequest : undefined;
    body.push([
      row.database === 'embedded' ? 'PGlite' : 'PG+Redis',
      row.logLevel,
      row.target.label,
      r ? r.rps.toFixed(0) : '—',
      r ? r.p50.toFixed(2) : '—',
      r ? r.p99.toFixed(2) : '—',
      r?.cpuUsPerRequest !== undefined ? r.cpuUsPerRequest.toFixed(0) : '—',
      r ? statusSummary(r) : 'n/a',
      r && bare && row.target.id !== 'bare' ? (r.rps / bare.rps).toFixed(2) : '',
      cpuRatio !== undefined && row.target.id !== 'bare' ? cpuRatio.toFixed(2) : '',
      goal && ratio !== undefined ? `${ratio.toFixed(2)} of ${goal.id} ≥${goal.min}` : '',
      met === undefined ? '' : met ? 'met' : 'MISSED',
    ]);
    if (!r) notes.push(`${row.database}/${row.logLevel} ${row.target.label}: ${row.unavailable}`);
  }
  // Derived checks: the two rate limits within 10% of each other; the gateway's added p50 at 10 and 1 connections.
  for (const database of new Set(rows.map((r) => r.database))) {
    for (const logLevel of new Set(rows.map((r) => r.logLevel))) {
      const get = (id: TargetId) =>
        rows.find((o) => o.database === database && o.logLevel === logLevel && o.target.id === id)?.result;
      const limited = get('v1me-limited');
      const open = get('v1me');
      if (limited && open) {
        // Refusing may be faster than serving; it may not be more than 10% slower.
        const slower = (open.rps - limited.rps) / open.rps;
        notes.push(
          `${database}/${logLevel}: /api/v1/me at its limit is ${(Math.abs(slower) * 100).toFixed(1)}% ${slower >= 0 ? 'slower' : 'faster'} in req/s than at 1,000,000/min (goal: at most 10% slower: ${slower <= 0.1 ? 'met' : 'MISSED'})`,
        );
      }
      for (const [directId, gatewayId] of [
        ['direct', 'gateway'],
        ['direct-1', 'gateway-1'],
      ] as const) {
        const direct = get(directId);
        const gateway = get(gatewayId);
        if (!direct || !gateway) continue;
        const added = gateway.p50 - direct.p50;
        const connections = TARGETS.find((t) => t.id === directId)!.connections ?? 'default';
        notes.push(
          `${database}/${logLevel}: the gateway adds ${added.toFixed(2)} ms at p50 (connections: ${connections})`,
        );
      }
      // Against the minimal proxy of the same run (the floor of any proxy): CPU per request, and the p50 added at 1.
      for (const [proxyId, gatewayId] of [
        ['proxy', 'gateway'],
        ['proxy-1', 'gateway-1'],
      ] as const) {
        const proxy = get(proxyId);
        const gateway = get(gatewayId);
        if (!proxy || !gateway) continue;
        const connections = TARGETS.find((t) => t.id === proxyId)!.connections ?? 'default';
        const parts: string[] = [];
        if (proxy.cpuUsPerRequest !== undefined && gateway.cpuUsPerRequest !== undefined) {
          const ratio = gateway.cpuUsPerRequest / proxy.cpuUsPerRequest;
          parts.push(
            `CPU per request ${gateway.cpuUsPerRequest.toFixed(0)} vs ${proxy.cpuUsPerRequest.toFixed(0)} µs = ${ratio.toFixed(2)}× (goal ≤2.0×: ${ratio <= 2 ? 'met' : 'MISSED'})`,
          );
        }
        const added = gateway.p50 - proxy.p50;
        const goal = proxyId === 'proxy-1' ? ` (goal ≤0.10 ms: ${added <= 0.1 ? 'met' : 'MISSED'})` : '';
        parts.push(`p50 +${added.toFixed(2)} ms${goal}`);
        notes.push(
          `${database}/${logLevel}: gateway vs minimal proxy (connections: ${connections}): ${parts.join('; ')}`,
        );
      }
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => ((i >= 3 && i <= 6) || i === 8 || i === 9 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt));
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n');
}

function statusSummary(r: LoadResult): string {
  const parts = Object.entries(r.statuses)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code}×${n}`);
  if (r.errors) parts.push(`err×${r.errors}`);
  return parts.join(' ');
}

// Ctrl-C: exit through 'exit' handlers, so that the harness kills the app instances it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((err) => {
  // A benchmark never fails CI: report and exit 0.
  console.error(`Benchmark could not run: ${err instanceof Error ? err.stack : String(err)}`);
});
