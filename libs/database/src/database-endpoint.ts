import { EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseEndpoint {
  url: string;
  poolSize: number;
  embedded: boolean;
  /** Stops the embedded server, if any; call after the data source is closed. */
  close(): Promise<void>;
}

/** DATABASE_URL when set, otherwise an embedded PostgreSQL under DATA_DIR. */
export async function openDatabaseEndpoint(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
}): Promise<DatabaseEndpoint> {
  if (opts.databaseUrl) {
    return { url: opts.databaseUrl, poolSize: opts.poolSize, embedded: false, close: async () => {} };
  }
  const embedded = await EmbeddedPostgres.start(opts.dataDir);
  return { url: embedded.url, poolSize: 1, embedded: true, close: () => embedded.stop() };
}
