/**
 * The medium tier: repositories against a real, migrated database (PGlite by default, a database of its own on
 * TEST_DATABASE_URL's server when set), in the test's own process, without Nest or HTTP. One database per file:
 * open it in `before`, close it in `after`.
 */
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions, openDatabaseEndpoint, Transactions, type DatabaseEndpoint } from '#libs/database';
import { createTestDatabase, REPO_ROOT, type TestDatabase } from './app';

const ENTITIES = path.join(REPO_ROOT, 'dist', 'libs', '**', '*.entity.js');

export interface MediumDatabase {
  readonly dataSource: DataSource;
  readonly transactions: Transactions;
  close(): Promise<void>;
}

export async function openMediumDatabase(): Promise<MediumDatabase> {
  const database: TestDatabase = await createTestDatabase();
  let endpoint: DatabaseEndpoint | undefined;
  let dataSource: DataSource | undefined;
  try {
    endpoint = await openDatabaseEndpoint({
      databaseUrl: database.env.DATABASE_URL,
      dataDir: database.env.DATA_DIR ?? '',
      poolSize: 5,
    });
    dataSource = await new DataSource({ ...dataSourceOptions(endpoint), entities: [ENTITIES] }).initialize();
    await dataSource.runMigrations();
  } catch (err) {
    await dataSource?.destroy();
    await endpoint?.close();
    await database.drop();
    throw err;
  }
  const opened = { dataSource, endpoint };
  return {
    dataSource,
    transactions: new Transactions(dataSource),
    async close() {
      await opened.dataSource.destroy();
      await opened.endpoint.close();
      await database.drop();
    },
  };
}
