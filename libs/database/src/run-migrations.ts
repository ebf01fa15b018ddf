import { DataSource, MigrationExecutor } from 'typeorm';

/** Any constant works; it only has to be the same for every instance of this service. */
const MIGRATION_LOCK_ID = 7_351_204_118;

/**
 * Applies pending migrations holding a PostgreSQL advisory lock on one connection, so that several
 * instances starting at once apply them exactly once.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}
