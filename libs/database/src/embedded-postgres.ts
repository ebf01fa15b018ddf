import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * PostgreSQL compiled to WebAssembly (PGlite), kept under DATA_DIR and served on a loopback socket
 * so that TypeORM talks to it with its ordinary `pg` driver. PGlite runs one session at a time,
 * hence the pool of one connection.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = join(dataDir, 'pglite');
    // The database's files are for this process only: DATA_DIR and everything under it are private
    // (0700 directories, files without group or other bits), including files created later.
    process.umask(0o077);
    for (const d of [dataDir, dir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      chmodSync(d, 0o700);
    }
    makePrivate(dir);
    const db = await PGlite.create(dir);
    // A new database is unpacked from PGlite's template with its own (world-readable) modes.
    makePrivate(dir);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
    await server.start();
    const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
    return new EmbeddedPostgres(db, server, `postgres://postgres@127.0.0.1:${port}/postgres`);
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
