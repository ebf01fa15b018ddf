import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The usage ledger takes a row per gateway request, and every index is paid on every insert. Nothing reads
 * it by API key (a key's tokens used come from the quota counters): the index on (api_key_id, created_at) is
 * dropped. The usage report reads by tenant and time, the admin stats by user and time: those stay.
 */
export class UsageLedgerIndexes1764000007000 implements MigrationInterface {
  name = 'UsageLedgerIndexes1764000007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_usage_records_api_key_created`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS ix_usage_records_api_key_created ON usage_records (api_key_id, created_at)`,
    );
  }
}
