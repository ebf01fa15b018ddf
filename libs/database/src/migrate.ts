import 'reflect-metadata';
import { AppConfig } from '#libs/config';
import { openDatabaseEndpoint } from './database-endpoint';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './run-migrations';

/** `npm run migration:run`: applies pending migrations and exits. */
async function main() {
  const config = new AppConfig();
  const endpoint = await openDatabaseEndpoint({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 1,
  });
  const dataSource = await new DataSource(dataSourceOptions(endpoint)).initialize();
  try {
    const applied = await runMigrations(dataSource);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations');
  } finally {
    await dataSource.destroy();
    await endpoint.close();
  }
}

main().catch((err) => {
  console.error(`Migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
