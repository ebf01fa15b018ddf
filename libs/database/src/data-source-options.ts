import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseEndpoint } from './database-endpoint';

/** Compiled migrations: dist/migrations, seen from dist/libs/database/src. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', '..', 'migrations', '*.js');

export function dataSourceOptions(endpoint: DatabaseEndpoint): DataSourceOptions {
  return {
    type: 'postgres',
    url: endpoint.url,
    synchronize: false,
    migrationsRun: false, // run under an advisory lock by runMigrations(), so instances starting together take turns
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'schema_migrations',
    extra: {
      max: endpoint.poolSize,
      // Fail fast while the database is down instead of queueing requests forever. The embedded database has
      // one connection that every request queues for, so a burst waits longer there before being refused.
      connectionTimeoutMillis: endpoint.embedded ? 30_000 : 5000,
      idleTimeoutMillis: 30000,
      // An idle client that errors (server restarted) must not crash the process.
      allowExitOnIdle: false,
    },
  };
}
