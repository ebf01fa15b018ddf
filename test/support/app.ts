/**
 * Starts the real server for a test, in one of two ways with the same TestApp API:
 * - as a child process (`node dist/apps/api/src/main.js`, the default), so tests exercise start-up, configuration,
 *   signals, crashes and logs exactly as an operator would, and several instances can share one database;
 * - in the test process (`inProcess: true`), built by the server's own createApp on the same kind of database and
 *   listening on a real port: the fast tier, for tests of what requests meet. `kill()` and signals need a process.
 * TEST_APP_MODE=process runs every test in a child process, whatever it asks for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { publicKeyPem } from './clerk-tokens';
import type { FakeOpenRouter } from './fake-openrouter';
import type { InProcessServer } from './in-process-server';

/** dist/test/support/app.js → the repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const DEFAULT_ENTRY = path.join(REPO_ROOT, 'dist', 'apps', 'api', 'src', 'main.js');

/** One key per test process: every instance (and restart) of a test must decrypt what the others stored. */
export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const HEALTH_PATH = '/api/health';

/** Configuration a developer's shell may carry; the harness decides these, never the environment. */
const INHERITED_VARS_TO_DROP =
  /^(DATABASE_URL|DATA_DIR|REDIS_URL|PORT|HOST|ENCRYPTION_KEY|LOG_LEVEL|CLERK_.*|OPENROUTER_.*)$/;

export interface TestDatabase {
  readonly kind: 'postgres' | 'pglite';
  /** Variables that point the app at this database: DATABASE_URL or DATA_DIR. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

export interface StartAppOptions {
  /** Overrides every variable the harness sets. */
  env?: Record<string, string>;
  /** A database to use; by default a fresh one is created and dropped by stop(). */
  database?: TestDatabase;
  /** Sets OPENROUTER_BASE_URL and OPENROUTER_PROVISIONING_API_KEY to the fake's. */
  openRouter?: FakeOpenRouter;
  /** Sets REDIS_URL from TEST_REDIS_URL (see redisAvailable()). */
  redis?: boolean;
  /** Script to run instead of the API's main.js. */
  entry?: string;
  startTimeoutMs?: number;
  /** Builds the server inside the test process instead of spawning it (see the top of this file). */
  inProcess?: boolean;
}

export interface AppRequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string. */
  body?: unknown;
}

export interface AppResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, otherwise the text. */
  body: any;
  text: string;
}

export interface Cluster {
  readonly apps: TestApp[];
  readonly database: TestDatabase;
  stopAll(signal?: NodeJS.Signals): Promise<void>;
}

/** Children still running, killed if the test process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export class TestApp {
  readonly port: number;
  readonly baseUrl: string;
  readonly env: Readonly<Record<string, string>>;
  private running: Running | null = null;
  private inProcessServer: InProcessServer | null = null;
  private readonly output: string[] = [];

  constructor(
    readonly database: TestDatabase,
    env: Record<string, string>,
    private readonly ownsDatabase: boolean,
    private readonly entry: string,
    private readonly startTimeoutMs: number,
    readonly inProcess = false,
  ) {
    this.env = env;
    this.port = Number(env.PORT);
    this.baseUrl = `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    if (this.inProcess) return this.inProcessServer ? process.pid : undefined;
    return this.running?.child.pid;
  }

  /** Everything the process printed on stdout and stderr, across restarts. */
  logs(): string {
    return this.output.join('');
  }

  /** The logs once `pattern` appears in them, or after `timeoutMs`: access lines are written within a second. */
  async logsMatching(pattern: RegExp, timeoutMs = 3_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const logs = this.logs();
      if (pattern.test(logs) || Date.now() >= deadline) return logs;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Spawns the process (or builds the app in process) and resolves once GET /api/health answers 200. */
  async start(): Promise<void> {
    if (this.running || this.inProcessServer) throw new Error('TestApp already running');
    if (this.inProcess) return this.startInProcess();
    const child = spawn(process.execPath, [this.entry], {
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    // Unreferenced, so that a test that forgets stop() ends (and the exit hook kills the child) instead of hanging.
    child.unref();
    child.on('error', (err) => this.output.push(`[spawn error] ${err.message}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      (stream as net.Socket).unref();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.output.push(chunk);
        if (process.env.TEST_SHOW_APP_LOGS) process.stderr.write(chunk);
      });
    }
    // 'close' rather than 'exit': it comes after stdout/stderr are drained, so logs() is complete by then.
    const closed = new Promise<ExitStatus>((resolve) =>
      child.once('close', (code, signal) => {
        liveChildren.delete(child);
        resolve({ code, signal });
      }),
    );
    const running: Running = { child, closed, exit: null };
    void closed.then((status) => (running.exit = status));
    this.running = running;
    try {
      await this.waitForHealth(running);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 15 s); drops the database if startApp created it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    const status = await this.terminate(signal);
    if (this.ownsDatabase) await this.database.drop();
    return status;
  }

  /** Kills the process at once, as a crash would; the database is kept. */
  async kill(): Promise<ExitStatus> {
    if (this.inProcess) throw new Error('kill() needs a child process: start the app without inProcess');
    return this.terminate('SIGKILL');
  }

  /** Stops gracefully and starts again with the same env, port and database. */
  async restart(): Promise<void> {
    await this.terminate('SIGTERM');
    await this.start();
  }

  async request(method: string, urlPath: string, opts: AppRequestOptions = {}): Promise<AppResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/json';
      }
    }
    const res = await fetch(this.baseUrl + urlPath, { method, headers, body });
    const text = await res.text();
    const isJson = /\bjson\b/i.test(res.headers.get('content-type') ?? '') && text !== '';
    return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text, text };
  }

  private async startInProcess(): Promise<void> {
    // Loaded on first use: test files that only start child processes never load the application.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { InProcessServer } = require('./in-process-server') as typeof import('./in-process-server');
    const server = await InProcessServer.start(this.env as Record<string, string>, (chunk: string) => {
      this.output.push(chunk);
      if (process.env.TEST_SHOW_APP_LOGS) process.stderr.write(chunk);
    });
    this.inProcessServer = server;
    if (!(await this.isHealthy())) {
      await this.terminate('SIGTERM');
      throw new Error(`App not healthy after start-up:\n${this.logs()}`);
    }
  }

  private async waitForHealth(running: Running): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (running.exit) throw new Error(`App exited during start-up (${describeExit(running.exit)}):\n${this.logs()}`);
      if (await this.isHealthy()) return;
      await sleep(100);
    }
    throw new Error(`App not healthy after ${this.startTimeoutMs} ms:\n${this.logs()}`);
  }

  private async isHealthy(): Promise<boolean> {
    try {
      const res = await fetch(this.baseUrl + HEALTH_PATH, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  private async terminate(signal: NodeJS.Signals): Promise<ExitStatus> {
    if (this.inProcess) {
      if (signal === 'SIGKILL') throw new Error('SIGKILL needs a child process: start the app without inProcess');
      const server = this.inProcessServer;
      this.inProcessServer = null;
      await server?.stop();
      return { code: server ? 0 : null, signal: null };
    }
    const running = this.running;
    this.running = null;
    if (!running) return { code: null, signal: null };
    if (running.exit) return running.exit;
    running.child.kill(signal);
    const timer = setTimeout(() => running.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const status = await running.closed;
    clearTimeout(timer);
    return status;
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Running {
  readonly child: ChildProcess;
  readonly closed: Promise<ExitStatus>;
  /** Set once the process has exited and its output is drained. */
  exit: ExitStatus | null;
}

/** Starts one instance on a free port, with a fresh database unless one is given. */
export async function startApp(opts: StartAppOptions = {}): Promise<TestApp> {
  const [port] = await freePorts(1);
  const owned = opts.database === undefined;
  const database = opts.database ?? (await createTestDatabase());
  try {
    const app = new TestApp(database, appEnv(port, database, opts), owned, ...launchSettings(opts), inProcess(opts));
    await app.start();
    return app;
  } catch (err) {
    if (owned) await database.drop();
    throw err;
  }
}

/**
 * Starts n instances on one PostgreSQL database with the same configuration. The first starts alone, so that
 * it runs the migrations, then the others together.
 */
export async function startCluster(n: number, opts: StartAppOptions = {}): Promise<Cluster> {
  if (opts.database ? opts.database.kind !== 'postgres' : !postgresAvailable()) {
    throw new Error('startCluster needs PostgreSQL (set TEST_DATABASE_URL): PGlite is single-process');
  }
  const owned = opts.database === undefined;
  const database = opts.database ?? (await createTestDatabase());
  const ports = await freePorts(n);
  const apps: TestApp[] = [];
  const stopAll = async (signal: NodeJS.Signals = 'SIGTERM') => {
    await Promise.all(apps.map((app) => app.stop(signal)));
    if (owned) await database.drop();
  };
  try {
    for (const port of ports)
      apps.push(new TestApp(database, appEnv(port, database, opts), false, ...launchSettings(opts)));
    await apps[0].start();
    await Promise.all(apps.slice(1).map((app) => app.start()));
  } catch (err) {
    await stopAll('SIGKILL');
    throw err;
  }
  return { apps, database, stopAll };
}

/**
 * A PostgreSQL database of its own on TEST_DATABASE_URL's server when set, otherwise a PGlite data dir, already
 * migrated (copied from a template) unless `empty` asks for a bare cluster (tests of a migration itself).
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  return serverUrl ? createPostgresDatabase(serverUrl) : await createPgliteDatabase(opts.empty ?? false);
}

export function postgresAvailable(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL);
}

export function redisAvailable(): boolean {
  return Boolean(process.env.TEST_REDIS_URL);
}

/** Ports free right now, all distinct: each is held until all are chosen. */
/**
 * Ports for apps to listen on later, below Linux's ephemeral range (32768–60999): a port the kernel hands out
 * for `listen(0)` can be taken a moment later as the local port of another process's outgoing connection (to
 * PostgreSQL, Redis, a fake), and test files run side by side. Each port is checked free by binding it.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  return ports;
}

async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
}

function appEnv(port: number, database: TestDatabase, opts: StartAppOptions): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    CLERK_JWT_KEY: publicKeyPem,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    // Suites send many bad credentials from 127.0.0.1; the limit itself is tested with its own value.
    AUTH_FAILURES_PER_MINUTE: '100000',
    ...database.env,
    ...(opts.openRouter && {
      OPENROUTER_BASE_URL: opts.openRouter.baseUrl,
      OPENROUTER_PROVISIONING_API_KEY: opts.openRouter.provisioningKey,
    }),
    ...(opts.redis && { REDIS_URL: requireEnv('TEST_REDIS_URL') }),
    ...opts.env,
  };
}

function launchSettings(opts: StartAppOptions): [entry: string, startTimeoutMs: number] {
  return [opts.entry ?? DEFAULT_ENTRY, opts.startTimeoutMs ?? START_TIMEOUT_MS];
}

function inProcess(opts: StartAppOptions): boolean {
  if (!opts.inProcess || process.env.TEST_APP_MODE === 'process') return false;
  if (opts.entry) throw new Error('startApp: entry runs a script, which needs a child process (drop inProcess)');
  return true;
}

function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_VARS_TO_DROP.test(name)));
}

async function createPostgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `umb_t_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url.toString() },
    // FORCE: an instance killed mid-test may still hold connections.
    drop: () => withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * A DATA_DIR whose embedded cluster is a copy of a freshly initialised one: PGlite's initdb costs seconds of CPU
 * per database, a copy a fraction of it. The app then runs its migrations on it as on any new data dir.
 */
/**
 * Where embedded test databases live: in memory (/dev/shm) when the machine has it, else the temp directory. A
 * database is 40 MB over a thousand files, copied for every test file: on disk the copy alone costs most of a second
 * of kernel time, in memory a tenth of that. The storage medium is not what these tests test.
 */
function scratchRoot(): string {
  const shm = '/dev/shm';
  try {
    fs.accessSync(shm, fs.constants.W_OK);
    return shm;
  } catch {
    return os.tmpdir();
  }
}

async function createPgliteDatabase(empty: boolean): Promise<TestDatabase> {
  const template = empty ? await pgliteTemplate() : await migratedPgliteTemplate();
  const dir = fs.mkdtempSync(path.join(scratchRoot(), 'umb-'));
  fs.cpSync(template, path.join(dir, 'pglite'), { recursive: true });
  return {
    kind: 'pglite',
    env: { DATA_DIR: dir },
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An initialised, empty PGlite cluster shared by every test process of this PGlite version (kept in the temp
 * directory across runs). Made once: in a private directory first, then renamed into place, so that test
 * processes starting together never see half of one.
 */
async function pgliteTemplate(): Promise<string> {
  const manifest = path.join(REPO_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  const template = path.join(scratchRoot(), `umb-pglite-template-${version}`);
  if (fs.existsSync(path.join(template, 'PG_VERSION'))) return template;
  const staging = fs.mkdtempSync(`${template}.staging-`);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(staging);
    await db.close();
    fs.renameSync(staging, template);
  } catch (err) {
    // Another process renamed its copy into place first: use that one.
    if (!fs.existsSync(path.join(template, 'PG_VERSION'))) throw err;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return template;
}

/**
 * The empty template with every migration applied, made once per set of compiled migrations (a file-system key of
 * their contents): each test database then starts without running them, which is most of the cost of a new
 * embedded database. Made as the empty one is: in a private directory, then renamed into place.
 */
async function migratedPgliteTemplate(): Promise<string> {
  const migrationsDir = path.join(REPO_ROOT, 'dist', 'migrations');
  const hash = createHash('sha256');
  for (const name of fs
    .readdirSync(migrationsDir)
    .filter((n) => n.endsWith('.js'))
    .sort())
    hash.update(name).update(fs.readFileSync(path.join(migrationsDir, name)));
  const empty = await pgliteTemplate();
  const template = `${empty}-migrated-${hash.digest('hex').slice(0, 16)}`;
  if (fs.existsSync(path.join(template, 'PG_VERSION'))) return template;
  const staging = fs.mkdtempSync(`${template}.staging-`);
  try {
    fs.cpSync(empty, path.join(staging, 'pglite'), { recursive: true });
    const { openDatabaseEndpoint, dataSourceOptions, runMigrations } = await import('#libs/database');
    const { DataSource } = await import('typeorm');
    const endpoint = await openDatabaseEndpoint({ dataDir: staging, poolSize: 1 });
    try {
      const dataSource = await new DataSource(dataSourceOptions(endpoint)).initialize();
      try {
        await runMigrations(dataSource);
      } finally {
        await dataSource.destroy();
      }
    } finally {
      await endpoint.close();
    }
    fs.renameSync(path.join(staging, 'pglite'), template);
  } catch (err) {
    // Another process renamed its copy into place first: use that one.
    if (!fs.existsSync(path.join(template, 'PG_VERSION'))) throw err;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return template;
}

async function withClient(connectionString: string, run: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
