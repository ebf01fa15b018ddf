import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * USD budgets per tenant API key and per tenant, and the spend counters they are checked against.
 * A key's spend sits beside its tokens in its quota counter rows (same key, same windows, written by the
 * same statement); a tenant's spend, the sum of its keys', has its own rows. Spend is in micro-dollars.
 * Existing counters keep their tokens; spend counts from this version on.
 */
export class KeyAndTenantBudgets1764000009000 implements MigrationInterface {
  name = 'KeyAndTenantBudgets1764000009000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'tenants']) {
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN budget_usd numeric(20, 6), ADD COLUMN budget_period text NOT NULL DEFAULT 'month'`,
      );
      await q.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ck_${table}_budget_usd CHECK (budget_usd IS NULL OR budget_usd >= 0),
           ADD CONSTRAINT ck_${table}_budget_period CHECK (budget_period IN ('day', 'month', 'total'))`,
      );
    }
    await q.query(`ALTER TABLE quota_counters ADD COLUMN spent_micros bigint NOT NULL DEFAULT 0`);
    await q.query(
      `ALTER TABLE quota_counters ADD CONSTRAINT ck_quota_counters_spent_non_negative CHECK (spent_micros >= 0)`,
    );
    await q.query(`CREATE TABLE tenant_spend_counters (
      tenant_id uuid NOT NULL,
      period text NOT NULL,
      window_start timestamptz NOT NULL,
      spent_micros bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_tenant_spend_counters PRIMARY KEY (tenant_id, period, window_start),
      CONSTRAINT ck_tenant_spend_counters_period CHECK (period IN ('day', 'month', 'total')),
      CONSTRAINT ck_tenant_spend_counters_non_negative CHECK (spent_micros >= 0)
    )`);
    await q.query(
      `CREATE INDEX ix_tenant_spend_counters_window_start ON tenant_spend_counters (window_start) WHERE period <> 'total'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS tenant_spend_counters`);
    await q.query(`ALTER TABLE quota_counters DROP CONSTRAINT IF EXISTS ck_quota_counters_spent_non_negative`);
    await q.query(`ALTER TABLE quota_counters DROP COLUMN IF EXISTS spent_micros`);
    for (const table of ['tenants', 'api_keys']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ck_${table}_budget_period`);
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ck_${table}_budget_usd`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS budget_period, DROP COLUMN IF EXISTS budget_usd`);
    }
  }
}
