import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway serves five inference routes (chat completions, completions, embeddings, responses, Anthropic
 * messages); each usage record names the one it came through. Rows written before are left null.
 */
export class UsageRoute1764000009500 implements MigrationInterface {
  name = 'UsageRoute1764000009500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN IF NOT EXISTS route text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN IF EXISTS route`);
  }
}
