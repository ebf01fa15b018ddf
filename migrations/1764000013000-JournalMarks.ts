import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far each crash journal's quota settlements are written into quota_counters, updated in the same
 * transaction as the counters: a journal replayed after a kill skips exactly what was already counted.
 * One row per server process (and per replay); small, and never read on the request path.
 */
export class JournalMarks1764000013000 implements MigrationInterface {
  name = 'JournalMarks1764000013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE journal_marks (
      journal text NOT NULL,
      channel text NOT NULL,
      position bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_journal_marks PRIMARY KEY (journal, channel),
      CONSTRAINT ck_journal_marks_position CHECK (position >= 0)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS journal_marks`);
  }
}
