import { MigrationInterface, QueryRunner } from 'typeorm';

/** Gateway usage: a record per request, and token counters per API key and quota window. */
export class Usage1764000002000 implements MigrationInterface {
  name = 'Usage1764000002000';

  async up(q: QueryRunner): Promise<void> {
    // Append-only ledger, like audit_events: no foreign keys, so that usage outlives a deleted key, user or
    // tenant (billing history), and so that the batched inserts never fail on a row deleted meanwhile.
    await q.query(`CREATE TABLE usage_records (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL,
      user_id uuid,
      api_key_id uuid,
      request_id text,
      model text,
      prompt_tokens integer NOT NULL DEFAULT 0,
      completion_tokens integer NOT NULL DEFAULT 0,
      total_tokens integer NOT NULL DEFAULT 0,
      cost numeric(20, 10),
      status_code smallint NOT NULL,
      outcome text NOT NULL,
      error_code text,
      stream boolean NOT NULL DEFAULT false,
      key_renewed boolean NOT NULL DEFAULT false,
      usage_estimated boolean NOT NULL DEFAULT false,
      latency_ms integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ck_usage_records_outcome CHECK (outcome IN ('completed', 'upstream_error', 'stream_error', 'client_aborted', 'quota_exceeded', 'failed')),
      CONSTRAINT ck_usage_records_tokens CHECK (prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0)
    )`);
    // GET /api/v1/usage reads a tenant's records in a time range.
    await q.query(`CREATE INDEX ix_usage_records_tenant_created ON usage_records (tenant_id, created_at)`);
    await q.query(`CREATE INDEX ix_usage_records_api_key_created ON usage_records (api_key_id, created_at)`);
    await q.query(`CREATE INDEX ix_usage_records_user_created ON usage_records (user_id, created_at)`);

    // Running token totals per API key and window (UTC day, UTC month, all time), with the tokens
    // reserved by requests in flight. Used for quotas when Redis is not configured, and for tokens_used.
    await q.query(`CREATE TABLE quota_counters (
      api_key_id uuid NOT NULL,
      period text NOT NULL,
      window_start timestamptz NOT NULL,
      used bigint NOT NULL DEFAULT 0,
      reserved bigint NOT NULL DEFAULT 0,
      reserved_until timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_quota_counters PRIMARY KEY (api_key_id, period, window_start),
      CONSTRAINT ck_quota_counters_period CHECK (period IN ('day', 'month', 'total')),
      CONSTRAINT ck_quota_counters_non_negative CHECK (used >= 0 AND reserved >= 0)
    )`);
    await q.query(
      `CREATE INDEX ix_quota_counters_window_start ON quota_counters (window_start) WHERE period <> 'total'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS quota_counters`);
    await q.query(`DROP TABLE IF EXISTS usage_records`);
  }
}
