import { EmbeddedPostgres, embeddedDatabaseUrl, embeddedServerAnswers } from './embedded-postgres';

export interface DatabaseEndpoint {
  url: string;
  poolSize: number;
  embedded: boolean;
  /** Stops the embedded server, if any; call after the data source is closed. */
  close(): Promise<void>;
}

/**
 * DATABASE_URL when set, otherwise an embedded PostgreSQL under DATA_DIR. With `joinRunningServer` (the command
 * line), an embedded database that a running server already serves is used through that server's socket
 * rather than opened a second time (PGlite's files serve one process).
 */
export async function openDatabaseEndpoint(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  joinRunningServer?: boolean;
}): Promise<DatabaseEndpoint> {
  if (opts.databaseUrl) {
    return { url: opts.databaseUrl, poolSize: opts.poolSize, embedded: false, close: async () => {} };
  }
  if (opts.joinRunningServer && (await embeddedServerAnswers(opts.dataDir))) {
    return { url: embeddedDatabaseUrl(opts.dataDir), poolSize: 1, embedded: true, close: async () => {} };
  }
  const embedded = await EmbeddedPostgres.start(opts.dataDir);
  return { url: embedded.url, poolSize: 1, embedded: true, close: () => embedded.stop() };
}
