/**
 * `npm run soak`: mixed traffic on two instances of the API sharing PostgreSQL and Redis, for ten minutes by
 * default. Every interval (a minute by default) it prints the requests, the errors by status and code (expected
 * ones, such as a revoked key's 401 or a small limit's 429, apart from unexpected ones), latency percentiles and
 * each instance's memory (RSS and anonymous RSS from /proc/<pid>/status). At the end it checks that nothing failed
 * unexpectedly and that memory stayed flat: within 10% between the end of the warm-up and the last interval.
 * Not part of CI. Exit code 1 when the verdict fails.
 *
 * Options (flag or environment variable):
 *   --duration=600      SOAK_DURATION     seconds of traffic (e.g. 60 to try it out)
 *   --interval=60       SOAK_INTERVAL     seconds between reports
 *   --warmup=…          SOAK_WARMUP       seconds before the memory baseline (default: 20% of the run, at most 120)
 *   --rate=80           SOAK_RATE         requests per second, spread over both instances
 *   --concurrency=16    SOAK_CONCURRENCY  requests in flight at most
 *   --log-level=info    SOAK_LOG_LEVEL    the instances' LOG_LEVEL (logs go to .tmp/soak/app-<pid>.log)
 *   --database-url=…    (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   --redis-url=…       (else TEST_REDIS_URL, else redis://127.0.0.1:6379)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, startCluster, type Cluster, type TestApp } from '../test/support/app';
import { signClerkToken, type ClerkClaims } from '../test/support/clerk-tokens';
import { CHAT_BODY } from './support/api';
import { startFakeUpstream } from './support/children';
import { percentile } from './support/load';
import { processMemory, type ProcessMemory } from './support/memory';
import {
  assertLoopback,
  DEFAULT_POSTGRES_URL,
  DEFAULT_REDIS_URL,
  option,
  postgresAnswers,
  redisAnswers,
} from './support/services';

interface Outcome {
  op: string;
  status: number;
  code: string | null;
  expected: boolean;
  ms: number;
}

interface SoakUser {
  claims: ClerkClaims;
  token: string;
  tenantId: string;
  /** The user's long-lived key (chat, /v1/me), and keys created and revoked during the run. */
  key: { id: string; key: string } | null;
  extraKeys: { id: string; key: string }[];
}

interface Op {
  name: string;
  weight: number;
  run: (app: TestApp) => Promise<Outcome>;
}

const MAX_USERS = 40;
const MAX_EXTRA_KEYS = 4;
const MAX_REVOKED = 50;
const REQUEST_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const durationSec = Number(option(args, 'duration', 'SOAK_DURATION', '600'));
  const intervalSec = Number(option(args, 'interval', 'SOAK_INTERVAL', '60'));
  const warmupSec = Number(option(args, 'warmup', 'SOAK_WARMUP', String(Math.min(120, Math.round(durationSec * 0.2)))));
  const rate = Number(option(args, 'rate', 'SOAK_RATE', '80'));
  const concurrency = Number(option(args, 'concurrency', 'SOAK_CONCURRENCY', '16'));
  const logLevel = option(args, 'log-level', 'SOAK_LOG_LEVEL', 'info');
  const databaseUrl = option(
    args,
    'database-url',
    'SOAK_DATABASE_URL',
    process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL,
  );
  const redisUrl = option(args, 'redis-url', 'SOAK_REDIS_URL', process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL);
  const maxRequests = Math.ceil(rate * durationSec * 1.2) + 1000;

  if (!(await postgresAnswers(databaseUrl)) || !(await redisAnswers(redisUrl))) {
    console.error(
      `The soak run needs PostgreSQL (${databaseUrl}) and Redis (${redisUrl}) answering: two instances share them.`,
    );
    process.exitCode = 1;
    return;
  }
  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_REDIS_URL = redisUrl;

  const logDir = path.join(REPO_ROOT, '.tmp', 'soak');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const fake = await startFakeUpstream({ FAKE_LOG_LIMIT: '2000' });
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster(2, {
      redis: true,
      entry: path.join(__dirname, 'support', 'app-entry.js'),
      env: {
        LOG_LEVEL: logLevel,
        APP_LOG_FILE: path.join(logDir, 'app-{pid}.log'),
        OPENROUTER_BASE_URL: fake.info.baseUrl,
        OPENROUTER_PROVISIONING_API_KEY: fake.info.provisioningKey,
      },
    });
    const apps = cluster.apps;
    for (const app of apps) assertLoopback(app.baseUrl);
    console.log(
      `Soak: ${durationSec} s of mixed traffic at ${rate} req/s (at most ${concurrency} in flight) on 2 instances ` +
        `(pids ${apps.map((a) => a.pid).join(', ')}), PostgreSQL + Redis, LOG_LEVEL=${logLevel}; reports every ${intervalSec} s, memory baseline after ${warmupSec} s`,
    );

    const traffic = await Traffic.setUp(apps);
    console.log(
      `Set up ${traffic.users.length} users; operations: ${traffic.ops.map((o) => `${o.name}×${o.weight}`).join(' ')}${traffic.missing.length ? `; not built yet: ${traffic.missing.join(', ')}` : ''}`,
    );

    const samples: Array<{ t: number; mem: (ProcessMemory | null)[] }> = [];
    const sampleMemory = (t: number) =>
      samples.push({ t, mem: apps.map((a) => (a.pid ? processMemory(a.pid) : null)) });
    const outcomes: Outcome[] = [];
    let reported = 0;
    let reportedAt = 0;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    sampleMemory(0);
    const sampler = setInterval(() => sampleMemory(elapsed()), 5000);
    const reporter = setInterval(() => {
      const slice = outcomes.slice(reported);
      reported = outcomes.length;
      const now = elapsed();
      console.log(report(`t=${Math.round(now)}s`, slice, now - reportedAt, apps));
      reportedAt = now;
    }, intervalSec * 1000);

    // Open-loop pacing: request i starts at i / rate seconds, unless `concurrency` are still in flight.
    let next = 0;
    const workers = Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= maxRequests) return;
        const due = i / rate;
        if (due >= durationSec) return;
        const wait = due - elapsed();
        if (wait > 0) await sleep(wait * 1000);
        outcomes.push(await traffic.one(apps[i % apps.length]));
      }
    });
    await Promise.all(workers);
    clearInterval(sampler);
    clearInterval(reporter);
    sampleMemory(elapsed());
    if (outcomes.length > reported)
      console.log(report(`t=${Math.round(elapsed())}s (end)`, outcomes.slice(reported), elapsed() - reportedAt, apps));

    const verdict = summarize(outcomes, samples, warmupSec, intervalSec, elapsed(), apps, logDir);
    console.log(verdict.text);
    fs.writeFileSync(path.join(logDir, 'summary.txt'), verdict.text + '\n');
    if (!verdict.ok) process.exitCode = 1;
  } finally {
    await cluster?.stopAll();
    await fake.stop();
  }
}

/** The traffic mix and the state it needs (users, sessions, keys), built through the public routes. */
class Traffic {
  readonly users: SoakUser[] = [];
  readonly revoked: string[] = [];
  limitedKey: string | null = null;
  apiKeysBuilt = false;
  ops: Op[] = [];
  missing: string[] = [];
  private userSeq = 0;

  private constructor(private readonly apps: TestApp[]) {}

  static async setUp(apps: TestApp[]): Promise<Traffic> {
    const t = new Traffic(apps);
    for (let i = 0; i < 10; i++) await t.newUser(apps[i % apps.length]);
    const owner = t.users[0];
    const apiKeys = await exists(apps[0], 'POST', `/api/tenants/${owner.tenantId}/api-keys`, {
      authorization: `Bearer ${owner.token}`,
    });
    t.apiKeysBuilt = apiKeys;
    if (apiKeys) {
      for (const user of t.users)
        user.key = (await t.createKey(apps[0], user, { name: 'soak main', rate_limit_per_minute: 100_000 })).created;
      t.limitedKey =
        (await t.createKey(apps[1], owner, { name: 'soak limited', rate_limit_per_minute: 30 })).created?.key ?? null;
    } else t.missing.push('tenant API keys');
    const keyHeader = { 'x-api-key': owner.key?.key ?? 'umk_missing' };
    const gateway = apiKeys && (await exists(apps[0], 'POST', '/api/v1/chat/completions', keyHeader));
    if (apiKeys && !gateway) t.missing.push('gateway');
    const v1users = apiKeys && (await exists(apps[0], 'GET', '/api/v1/users?limit=5', keyHeader));
    if (apiKeys && !v1users) t.missing.push('/api/v1/users');

    const ops: Array<Op | false> = [
      { name: 'login', weight: 6, run: (app) => t.login(app) },
      { name: 'signup', weight: 1, run: (app) => t.signup(app) },
      { name: 'me', weight: 25, run: (app) => t.me(app) },
      {
        name: 'ready',
        weight: 2,
        run: (app) => t.send(app, 'ready', 'GET', '/api/health/ready', {}, undefined, [200]),
      },
      apiKeys && { name: 'v1/me', weight: 20, run: (app) => t.v1me(app) },
      apiKeys && {
        name: 'limited',
        weight: 3,
        run: (app) =>
          t.send(app, 'limited', 'GET', '/api/v1/me', { 'x-api-key': t.limitedKey! }, undefined, [200, 429]),
      },
      apiKeys && { name: 'key-create', weight: 3, run: (app) => t.keyCreate(app) },
      apiKeys && { name: 'key-revoke', weight: 3, run: (app) => t.keyRevoke(app) },
      apiKeys && { name: 'revoked-use', weight: 2, run: (app) => t.revokedUse(app) },
      v1users && {
        name: 'v1/users',
        weight: 5,
        run: (app) =>
          t.send(
            app,
            'v1/users',
            'GET',
            '/api/v1/users?limit=10',
            { 'x-api-key': t.pickWithKey().key!.key },
            undefined,
            [200],
          ),
      },
      gateway && { name: 'chat', weight: 18, run: (app) => t.chat(app, false) },
      gateway && { name: 'chat-stream', weight: 4, run: (app) => t.chat(app, true) },
    ];
    t.ops = ops.filter((o): o is Op => Boolean(o));
    return t;
  }

  async one(app: TestApp): Promise<Outcome> {
    const total = this.ops.reduce((s, o) => s + o.weight, 0);
    let r = Math.random() * total;
    const op = this.ops.find((o) => (r -= o.weight) < 0) ?? this.ops[0];
    return op.run(app);
  }

  pick(): SoakUser {
    return this.users[Math.floor(Math.random() * this.users.length)];
  }

  /** A new Clerk session of an existing user: its first request is a login. */
  login(app: TestApp): Promise<Outcome> {
    const user = this.pick();
    user.token = signClerkToken(user.claims);
    return this.send(app, 'login', 'GET', '/api/users/me', { authorization: `Bearer ${user.token}` }, undefined, [200]);
  }

  /** A user never seen: the login provisions an upstream key. */
  async signup(app: TestApp): Promise<Outcome> {
    if (this.users.length >= MAX_USERS) return this.login(app);
    const { outcome } = await this.newUser(app);
    return outcome;
  }

  me(app: TestApp): Promise<Outcome> {
    return this.send(
      app,
      'me',
      'GET',
      '/api/users/me',
      { authorization: `Bearer ${this.pick().token}` },
      undefined,
      [200],
    );
  }

  v1me(app: TestApp): Promise<Outcome> {
    const user = this.pickWithKey();
    return this.send(app, 'v1/me', 'GET', '/api/v1/me', { 'x-api-key': user.key!.key }, undefined, [200]);
  }

  chat(app: TestApp, stream: boolean): Promise<Outcome> {
    const user = this.pickWithKey();
    const body = stream ? JSON.stringify({ ...JSON.parse(CHAT_BODY), stream: true }) : CHAT_BODY;
    return this.send(
      app,
      stream ? 'chat-stream' : 'chat',
      'POST',
      '/api/v1/chat/completions',
      { 'x-api-key': user.key!.key, 'content-type': 'application/json' },
      body,
      [200],
    );
  }

  async keyCreate(app: TestApp): Promise<Outcome> {
    const user = this.pick();
    if (user.extraKeys.length >= MAX_EXTRA_KEYS) return this.keyRevoke(app, user);
    const result = await this.createKey(app, user, { name: `soak ${Date.now()}`, rate_limit_per_minute: 1000 });
    if (result.created) user.extraKeys.push(result.created);
    return {
      op: 'key-create',
      status: result.status,
      code: result.code,
      expected: result.status === 201,
      ms: result.ms,
    };
  }

  async keyRevoke(app: TestApp, user = this.users.find((u) => u.extraKeys.length) ?? this.pick()): Promise<Outcome> {
    const victim = user.extraKeys.shift();
    if (!victim) return this.keyCreate(app);
    const outcome = await this.send(
      app,
      'key-revoke',
      'DELETE',
      `/api/tenants/${user.tenantId}/api-keys/${victim.id}`,
      { authorization: `Bearer ${user.token}` },
      undefined,
      [204],
    );
    if (outcome.status === 204) {
      this.revoked.push(victim.key);
      if (this.revoked.length > MAX_REVOKED) this.revoked.shift();
    }
    return outcome;
  }

  /** A revoked key must be refused on every instance from the next request on. */
  revokedUse(app: TestApp): Promise<Outcome> {
    const key = this.revoked[Math.floor(Math.random() * this.revoked.length)];
    if (!key) return this.v1me(app);
    return this.send(app, 'revoked-use', 'GET', '/api/v1/me', { 'x-api-key': key }, undefined, [401]);
  }

  async send(
    app: TestApp,
    op: string,
    method: string,
    urlPath: string,
    headers: Record<string, string>,
    body: string | undefined,
    expected: number[],
  ): Promise<Outcome> {
    const started = performance.now();
    try {
      const res = await fetch(app.baseUrl + urlPath, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      let code: string | null = null;
      if (res.status >= 400) {
        try {
          const parsed = JSON.parse(text);
          code = parsed.code ?? parsed.error?.code ?? null;
        } catch {
          code = 'non_json';
        }
      } else if (op === 'chat-stream' && !text.includes('data: [DONE]')) {
        return { op, status: res.status, code: 'stream_incomplete', expected: false, ms: performance.now() - started };
      }
      return { op, status: res.status, code, expected: expected.includes(res.status), ms: performance.now() - started };
    } catch (err) {
      const name =
        (err as Error).name === 'TimeoutError'
          ? 'timeout'
          : ((err as { cause?: { code?: string } }).cause?.code ?? 'network_error');
      return { op, status: 0, code: name, expected: false, ms: performance.now() - started };
    }
  }

  pickWithKey(): SoakUser {
    const withKey = this.users.filter((u) => u.key);
    return withKey[Math.floor(Math.random() * withKey.length)];
  }

  private async newUser(app: TestApp): Promise<{ user: SoakUser | null; outcome: Outcome }> {
    const sub = `user_soak${++this.userSeq}_${Math.random().toString(16).slice(2, 10)}`;
    const claims: ClerkClaims = {
      sub,
      email: `${sub}@example.com`,
      first_name: 'Soak',
      last_name: String(this.userSeq),
    };
    const token = signClerkToken(claims);
    const started = performance.now();
    const res = await fetch(app.baseUrl + '/api/users/me', {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).catch(() => null);
    const body: any = res ? await res.json().catch(() => null) : null;
    const ms = performance.now() - started;
    if (!res || res.status !== 200)
      return {
        user: null,
        outcome: { op: 'signup', status: res?.status ?? 0, code: body?.code ?? null, expected: false, ms },
      };
    const keyOk = body.openrouter_key_status === 'active';
    const user: SoakUser = { claims, token, tenantId: body.tenant.id, key: null, extraKeys: [] };
    this.users.push(user);
    // A new user may get a key later (the soak keeps the mix running); the login itself must have provisioned one.
    if (this.apiKeysBuilt) {
      user.key = (await this.createKey(app, user, { name: 'soak main', rate_limit_per_minute: 100_000 })).created;
    }
    return {
      user,
      outcome: {
        op: 'signup',
        status: 200,
        code: keyOk ? null : `openrouter_${body.openrouter_key_status}`,
        expected: keyOk,
        ms,
      },
    };
  }

  private async createKey(app: TestApp, user: SoakUser, body: Record<string, unknown>): Promise<KeyCreation> {
    const started = performance.now();
    const res = await fetch(`${app.baseUrl}/api/tenants/${user.tenantId}/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).catch(() => null);
    const parsed: any = res ? await res.json().catch(() => null) : null;
    const created = res?.status === 201 && parsed?.key ? { id: parsed.id as string, key: parsed.key as string } : null;
    return {
      created,
      status: res?.status ?? 0,
      code: created ? null : (parsed?.code ?? null),
      ms: performance.now() - started,
    };
  }
}

interface KeyCreation {
  created: { id: string; key: string } | null;
  status: number;
  code: string | null;
  ms: number;
}

async function exists(
  app: TestApp,
  method: string,
  urlPath: string,
  headers: Record<string, string>,
): Promise<boolean> {
  const res = await fetch(app.baseUrl + urlPath, {
    method,
    headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    body:
      method === 'GET'
        ? undefined
        : method === 'POST' && urlPath.includes('chat')
          ? CHAT_BODY
          : '{"name":"soak probe","rate_limit_per_minute":1000}',
  });
  const text = await res.text();
  return !(res.status === 404 && /Cannot (GET|POST)/.test(text));
}

// ---- reports -----------------------------------------------------------------------------------

function report(label: string, slice: Outcome[], seconds: number, apps: TestApp[]): string {
  const sorted = Float64Array.from(slice.map((o) => o.ms)).sort();
  const unexpected = slice.filter((o) => !o.expected);
  const expectedErrors = slice.filter((o) => o.expected && o.status >= 400);
  const mem = apps.map((a, i) => {
    const m = a.pid ? processMemory(a.pid) : null;
    return m ? `#${i + 1} rss ${m.rssMb.toFixed(0)} MiB (anon ${m.anonMb.toFixed(0)})` : `#${i + 1} gone`;
  });
  return [
    `[${label}] ${slice.length} requests (${(slice.length / Math.max(seconds, 1)).toFixed(1)}/s), latency p50 ${fmt(percentile(sorted, 0.5))} p95 ${fmt(percentile(sorted, 0.95))} p99 ${fmt(percentile(sorted, 0.99))} max ${fmt(sorted[sorted.length - 1])} ms`,
    `    expected errors: ${byCode(expectedErrors) || 'none'}; UNEXPECTED: ${byCode(unexpected) || 'none'}`,
    `    memory: ${mem.join(', ')}`,
  ].join('\n');
}

function summarize(
  outcomes: Outcome[],
  samples: Array<{ t: number; mem: (ProcessMemory | null)[] }>,
  warmupSec: number,
  intervalSec: number,
  totalSec: number,
  apps: TestApp[],
  logDir: string,
) {
  const lines: string[] = ['', '== Soak summary'];
  const unexpected = outcomes.filter((o) => !o.expected);
  lines.push(
    `${outcomes.length} requests in ${totalSec.toFixed(0)} s; unexpected failures: ${unexpected.length}${unexpected.length ? ` (${byCode(unexpected)})` : ''}`,
  );
  lines.push('per operation (count, p50 / p99 ms, statuses):');
  for (const op of [...new Set(outcomes.map((o) => o.op))].sort()) {
    const mine = outcomes.filter((o) => o.op === op);
    const sorted = Float64Array.from(mine.map((o) => o.ms)).sort();
    lines.push(
      `  ${op.padEnd(12)} ${String(mine.length).padStart(6)}  ${fmt(percentile(sorted, 0.5)).padStart(7)} / ${fmt(percentile(sorted, 0.99)).padStart(7)}  ${byCode(mine, true)}`,
    );
  }
  // Memory: the mean over the interval after the warm-up against the mean over the last interval.
  const window = Math.min(intervalSec, Math.max(10, (totalSec - warmupSec) / 3));
  let memoryOk = true;
  for (let i = 0; i < apps.length; i++) {
    const rss = (from: number, to: number) =>
      mean(
        samples
          .filter((s) => s.t >= from && s.t <= to)
          .map((s) => s.mem[i]?.rssMb)
          .filter((v): v is number => v !== undefined),
      );
    const anon = (from: number, to: number) =>
      mean(
        samples
          .filter((s) => s.t >= from && s.t <= to)
          .map((s) => s.mem[i]?.anonMb)
          .filter((v): v is number => v !== undefined),
      );
    const base = rss(warmupSec, warmupSec + window);
    const end = rss(totalSec - window, totalSec + 1);
    const growth = end / base - 1;
    const ok = Number.isFinite(growth) && growth <= 0.1;
    memoryOk &&= ok;
    lines.push(
      `instance #${i + 1}: RSS ${fmt(rss(0, 5))} MiB at start, ${fmt(base)} MiB after warm-up (${warmupSec} s), ${fmt(end)} MiB at the end: ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% ` +
        `(anon ${fmt(anon(warmupSec, warmupSec + window))} → ${fmt(anon(totalSec - window, totalSec + 1))} MiB) — ${ok ? 'flat' : 'GREW beyond 10%'}`,
    );
  }
  const errorLines = fs
    .readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .reduce(
      (n, f) => n + (fs.readFileSync(path.join(logDir, f), 'utf8').match(/"level":"(error|fatal)"/g)?.length ?? 0),
      0,
    );
  lines.push(`error-level log lines in the instances' logs: ${errorLines}`);
  const ok = unexpected.length === 0 && memoryOk;
  lines.push(
    `verdict: ${ok ? 'PASS' : 'FAIL'} (no unexpected failure: ${unexpected.length === 0 ? 'yes' : 'no'}; memory flat within 10%: ${memoryOk ? 'yes' : 'no'})`,
  );
  return { ok, text: lines.join('\n') };
}

function byCode(list: Outcome[], includeOk = false): string {
  const counts = new Map<string, number>();
  for (const o of list) {
    if (!includeOk && o.status < 400 && o.status !== 0 && o.expected) continue;
    const key = o.code ? `${o.status} ${o.code}` : String(o.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}×${n}`)
    .join(', ');
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(1) : '—';
}

// Ctrl-C: exit through 'exit' handlers, so that the harness kills the app instances it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
