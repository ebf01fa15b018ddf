import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's OpenRouter budget across all their keys: an optional per-user budget, the period the counters are for,
 * and what replaced keys spent in it. Existing rows start at 0 replaced spend in the lifetime period (`none`), which
 * is what their keys were made for: the current key's own usage upstream keeps counting against its limit.
 */
export class UserBudgets1764000008000 implements MigrationInterface {
  name = 'UserBudgets1764000008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE openrouter_keys
         ADD COLUMN budget_usd numeric(12,4),
         ADD COLUMN budget_period text NOT NULL DEFAULT 'none',
         ADD COLUMN period_started_at timestamptz,
         ADD COLUMN replaced_spend_usd numeric(14,6) NOT NULL DEFAULT 0`,
    );
    await q.query(
      `ALTER TABLE openrouter_keys
         ADD CONSTRAINT ck_openrouter_keys_budget_usd CHECK (budget_usd IS NULL OR budget_usd >= 0),
         ADD CONSTRAINT ck_openrouter_keys_budget_period CHECK (budget_period IN ('none', 'daily', 'weekly', 'monthly')),
         ADD CONSTRAINT ck_openrouter_keys_replaced_spend CHECK (replaced_spend_usd >= 0)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE openrouter_keys
         DROP CONSTRAINT IF EXISTS ck_openrouter_keys_replaced_spend,
         DROP CONSTRAINT IF EXISTS ck_openrouter_keys_budget_period,
         DROP CONSTRAINT IF EXISTS ck_openrouter_keys_budget_usd,
         DROP COLUMN IF EXISTS replaced_spend_usd,
         DROP COLUMN IF EXISTS period_started_at,
         DROP COLUMN IF EXISTS budget_period,
         DROP COLUMN IF EXISTS budget_usd`,
    );
  }
}
