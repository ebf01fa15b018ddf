import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage rollups: the ledger summed per tenant, API key, user, model and UTC hour, and again per UTC day, written in
 * the statement that writes the ledger rows, so that reports read a number of rows that grows with the groups, not
 * with the requests. Hours make reports exact at hour granularity (partial edge hours come from the ledger); days
 * keep a month's report at about 30 rows per group however many groups an hour holds.
 *
 * Retention removes raw records older than USAGE_RETENTION_DAYS in whole UTC days; `usage_ledger_state` remembers
 * where the ledger is complete from, so that a rebuild never replaces rollups with what is left of a pruned day. A
 * BRIN index (a few pages, nearly free on inserts into an append-only table) lets retention find old rows.
 */
export class UsageRollups1764000010000 implements MigrationInterface {
  name = 'UsageRollups1764000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE usage_rollups (
      tenant_id uuid NOT NULL,
      granularity text NOT NULL,
      bucket_start timestamptz NOT NULL,
      api_key_id uuid,
      user_id uuid,
      model text,
      requests bigint NOT NULL DEFAULT 0,
      prompt_tokens bigint NOT NULL DEFAULT 0,
      completion_tokens bigint NOT NULL DEFAULT 0,
      total_tokens bigint NOT NULL DEFAULT 0,
      cost numeric(28, 10) NOT NULL DEFAULT 0,
      CONSTRAINT ck_usage_rollups_granularity CHECK (granularity IN ('hour', 'day'))
    ) WITH (fillfactor = 80)`);
    // The upsert's conflict target and the tenant reports' range scan; a null key, user or model is one group.
    await q.query(`CREATE UNIQUE INDEX ux_usage_rollups_bucket ON usage_rollups
      (tenant_id, granularity, bucket_start, api_key_id, user_id, model) NULLS NOT DISTINCT`);
    // Admin stats: a user's recorded spend, and the platform's spend over the last day and month.
    await q.query(`CREATE INDEX ix_usage_rollups_user ON usage_rollups (user_id, granularity, bucket_start)`);
    await q.query(`CREATE INDEX ix_usage_rollups_time ON usage_rollups (granularity, bucket_start)`);

    await q.query(`CREATE TABLE usage_ledger_state (
      id smallint NOT NULL DEFAULT 1,
      complete_from timestamptz,
      CONSTRAINT pk_usage_ledger_state PRIMARY KEY (id),
      CONSTRAINT ck_usage_ledger_state_single CHECK (id = 1)
    )`);
    await q.query(`INSERT INTO usage_ledger_state (id, complete_from) VALUES (1, NULL)`);

    await q.query(`CREATE INDEX ix_usage_records_created_brin ON usage_records USING brin (created_at)`);

    // What is already in the ledger, in the statement shape the recorder uses (both granularities at once).
    await q.query(
      `INSERT INTO usage_rollups (tenant_id, granularity, bucket_start, api_key_id, user_id, model,
         requests, prompt_tokens, completion_tokens, total_tokens, cost)
       SELECT r.tenant_id, g.granularity, date_trunc(g.granularity, r.created_at, 'UTC'), r.api_key_id, r.user_id,
              r.model, count(*), sum(r.prompt_tokens), sum(r.completion_tokens), sum(r.total_tokens),
              coalesce(sum(r.cost), 0)
         FROM usage_records r CROSS JOIN (VALUES ('hour'), ('day')) AS g (granularity)
        GROUP BY 1, 2, 3, 4, 5, 6`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_usage_records_created_brin`);
    await q.query(`DROP TABLE IF EXISTS usage_ledger_state`);
    await q.query(`DROP TABLE IF EXISTS usage_rollups`);
  }
}
