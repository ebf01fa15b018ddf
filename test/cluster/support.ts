/**
 * Helpers of the multi-instance and fault suites: requests spread over instances, direct reads of the shared
 * database, sign-in and tenant API keys through the public routes, and the machine's PostgreSQL and Redis servers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { postgresAvailable, redisAvailable, type AppResponse, type TestApp, type TestDatabase } from '../support/app';
import { signClerkToken, type ClerkClaims } from '../support/clerk-tokens';

const run = promisify(execFile);

/** Why the suite cannot run here, or false. The suite needs a real PostgreSQL and Redis (PGlite is one process). */
export const CLUSTER_SKIP: string | false =
  postgresAvailable() && redisAvailable() ? false : 'the cluster suite needs TEST_DATABASE_URL and TEST_REDIS_URL';

/** Runs `count` calls at once, call i on instance i mod apps.length. */
export function spread<T>(
  apps: readonly TestApp[],
  count: number,
  call: (app: TestApp, i: number) => Promise<T>,
): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(apps[i % apps.length], i)));
}

/** Counts of each status in a list of responses, e.g. {200: 20, 429: 180}. */
export function statusCounts(responses: readonly { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** One query on the cluster's database, on a connection of its own. */
export async function dbQuery<T = any>(database: TestDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: database.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface SignedIn {
  token: string;
  sub: string;
  userId: string;
  tenantId: string;
  me: any;
}

/** Claims of a new user, profile included so that no Clerk API call is needed. */
export function newUserClaims(label = 'u'): ClerkClaims {
  const sub = `user_${label}_${randomBytes(6).toString('hex')}`;
  return { sub, email: `${sub}@example.com`, first_name: 'Cluster', last_name: label };
}

export async function signIn(app: TestApp, claims: ClerkClaims = newUserClaims()): Promise<SignedIn> {
  const token = signClerkToken(claims);
  const res = await app.request('GET', '/api/users/me', { headers: bearer(token) });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${res.text}`);
  return { token, sub: claims.sub, userId: res.body.id, tenantId: res.body.tenant.id, me: res.body };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * Fails unless the route exists in this build (anything but Nest's "Cannot METHOD path" 404): a route the
 * suite depends on that is missing is a broken build, never a reason to skip.
 */
export async function requireRoute(
  app: TestApp,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const res = await app.request(method, path, { headers, body: method === 'GET' ? undefined : {} });
  if (res.status === 404 && /Cannot (GET|POST|PATCH|PUT|DELETE)/i.test(res.text))
    throw new Error(
      `The cluster suite depends on ${method} ${path}, which this build does not have (404: ${res.text})`,
    );
}

/** POST /api/tenants/{tenantId}/api-keys as the signed-in owner; throws unless 201. */
export async function createApiKey(
  app: TestApp,
  owner: SignedIn,
  body: Record<string, unknown>,
): Promise<{ id: string; key: string; body: any }> {
  const res = await app.request('POST', `/api/tenants/${owner.tenantId}/api-keys`, {
    headers: bearer(owner.token),
    body,
  });
  if (res.status !== 201) throw new Error(`creating an API key answered ${res.status}: ${res.text}`);
  return { id: res.body.id, key: res.body.key, body: res.body };
}

export function apiKeyHeaders(key: string): Record<string, string> {
  return { 'x-api-key': key };
}

export const CHAT_BODY = {
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello from the cluster suite' }],
};

/** Polls until `check` returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`Timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** A request that never throws: a connection failure becomes status 0 with the error's message. */
export async function tryRequest(
  app: TestApp,
  method: string,
  path: string,
  opts: Parameters<TestApp['request']>[2] = {},
): Promise<AppResponse> {
  try {
    return await app.request(method, path, opts);
  } catch (err) {
    return { status: 0, headers: new Headers(), body: null, text: String((err as Error).cause ?? err) };
  }
}

// ---- the machine's servers (fault tests) -------------------------------------------------------

/** The local PostgreSQL cluster that pg_ctlcluster manages, e.g. {version: '15', name: 'main'}, or null. */
export function localPostgresCluster(): { version: string; name: string } | null {
  try {
    const versions = fs.readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v));
    for (const version of versions) {
      const names = fs.readdirSync(`/etc/postgresql/${version}`);
      if (names.includes('main')) return { version, name: 'main' };
      if (names[0]) return { version, name: names[0] };
    }
  } catch {
    /* no local PostgreSQL managed by pg_ctlcluster */
  }
  return null;
}

export async function pgCtl(action: 'start' | 'stop' | 'restart'): Promise<void> {
  const cluster = localPostgresCluster();
  if (!cluster) throw new Error('no local PostgreSQL cluster');
  // stop uses pg_ctlcluster's default "fast" mode: clients are disconnected at once, transactions rolled back.
  const args = ['--skip-systemctl-redirect', cluster.version, cluster.name, action];
  await run('pg_ctlcluster', args, { timeout: 60_000 });
}

/** Waits until the server accepts a query again. */
export async function waitForPostgres(serverUrl = process.env.TEST_DATABASE_URL!, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'PostgreSQL to accept connections',
    async () => {
      const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    timeoutMs,
    250,
  );
}

export async function redisCli(...args: string[]): Promise<string> {
  const url = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const { stdout } = await run('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', ...args], {
    timeout: 10_000,
  });
  return stdout.trim();
}

export async function commandExists(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Stops the machine's Redis server at once (no save). */
export async function stopRedis(): Promise<void> {
  await redisCli('shutdown', 'nosave').catch(() => undefined); // the connection drops as it stops
  await waitFor(
    'Redis to stop',
    async () => ((await redisCli('ping').catch(() => 'down')) === 'PONG' ? undefined : true),
    10_000,
  );
}

/** Starts the machine's Redis server as CI runs it, and waits for PONG. */
export async function startRedis(): Promise<void> {
  if ((await redisCli('ping').catch(() => 'down')) === 'PONG') return;
  fs.mkdirSync('/var/lib/redis', { recursive: true });
  fs.mkdirSync('/var/log/redis', { recursive: true });
  await run(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      '6379',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ],
    { timeout: 10_000 },
  );
  await waitFor(
    'Redis to answer PONG',
    async () => ((await redisCli('ping').catch(() => '')) === 'PONG' ? true : undefined),
    15_000,
  );
}

/** Sends requests in a loop (bounded by `maxRequests` and `stop`), recording each status and error code. */
export class LoadLoop {
  readonly results: Array<{ at: number; status: number; code: string | null; path: string }> = [];
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly maxRequests = 20_000) {}

  start(workers: number, next: (i: number) => Promise<AppResponse> & { path?: string }, paceMs = 5): void {
    let n = 0;
    for (let w = 0; w < workers; w++) {
      this.loops.push(
        (async () => {
          while (!this.stopped && n < this.maxRequests) {
            const i = n++;
            const res = await next(i);
            const code =
              typeof res.body === 'object' && res.body ? (res.body.code ?? res.body.error?.code ?? null) : null;
            this.results.push({ at: Date.now(), status: res.status, code, path: String(i) });
            await sleep(paceMs);
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Status/code pairs and their counts, e.g. {"200": 512, "503 database_unavailable": 40}. */
  summary(from = 0): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.results.slice(from)) {
      const key =
        r.status === 200 || r.status === 201 || r.status === 204
          ? String(r.status)
          : `${r.status} ${r.code ?? ''}`.trim();
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }
}
