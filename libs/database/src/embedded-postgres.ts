import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/** PostgreSQL's own socket name, so that `pg` finds it from the directory alone (`host=<DATA_DIR>`). */
const SOCKET_NAME = '.s.PGSQL.5432';
/** Linux's limit on a Unix socket path (sun_path holds 108 bytes, the last a NUL). */
const MAX_SOCKET_PATH = 107;
/**
 * Connections the embedded server accepts: the server's own pool (one) and a command line run beside it (its
 * pool of two). PGlite runs one statement at a time; the socket server queues them and keeps a transaction's
 * statements together, so several connections are safe.
 */
const MAX_CONNECTIONS = 4;

/** The embedded database's socket under `dataDir`. */
export function embeddedSocketPath(dataDir: string): string {
  return join(dataDir, SOCKET_NAME);
}

/** A `pg` connection URL for the embedded database served on the socket in `dataDir`. */
export function embeddedDatabaseUrl(dataDir: string): string {
  return `postgres://postgres@${encodeURIComponent(dataDir)}/postgres`;
}

/** Whether a process answers on the embedded database's socket under `dataDir` (a server holding the database). */
export function embeddedServerAnswers(dataDir: string): Promise<boolean> {
  const path = embeddedSocketPath(dataDir);
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), kept under DATA_DIR and served on a Unix socket inside DATA_DIR
 * (0700), so that TypeORM talks to it with its ordinary `pg` driver and no other user of the machine can: a
 * TCP port, even on loopback, would be open to every local process, and PGlite asks no password.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = join(dataDir, 'pglite');
    const socketPath = embeddedSocketPath(dataDir);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
      throw new Error(
        `DATA_DIR: ${dataDir} is too long for the embedded database's socket (${socketPath} exceeds ${MAX_SOCKET_PATH} bytes); choose a shorter path`,
      );
    // The database's files are for this process only: DATA_DIR and everything under it are private
    // (0700 directories, files without group or other bits), including files created later.
    process.umask(0o077);
    for (const d of [dataDir, dir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      chmodSync(d, 0o700);
    }
    if (await embeddedServerAnswers(dataDir))
      throw new Error(
        `the embedded database under ${dataDir} is already served by another process (a server on the same DATA_DIR): stop it, or choose another DATA_DIR`,
      );
    // Left behind by a process that was killed: nobody answers on it.
    if (existsSync(socketPath)) unlinkSync(socketPath);
    makePrivate(dir);
    const db = await PGlite.create(dir);
    // A new database is unpacked from PGlite's template with its own (world-readable) modes.
    makePrivate(dir);
    const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: MAX_CONNECTIONS });
    try {
      await server.start();
    } catch (err) {
      await db.close();
      throw err;
    }
    chmodSync(socketPath, 0o600);
    return new EmbeddedPostgres(db, server, embeddedDatabaseUrl(dataDir));
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}

/** Removes group and other permissions from everything under `dir` (files made by an older release). */
function makePrivate(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
    if (stat.isDirectory()) makePrivate(path);
  }
}
