import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant API keys. Only the SHA-256 of a key is stored (unique: it is how a request finds its key);
 * `prefix` is the public part shown in lists. `revoked_at` may lie in the future: a rotated key keeps
 * working until then (its grace period), and is refused as revoked afterwards. Tokens used are
 * counted by the gateway's quota counters (quota_counters / Redis), not here.
 */
export class ApiKeys1764000001000 implements MigrationInterface {
  name = 'ApiKeys1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL,
      user_id uuid,
      name text NOT NULL,
      key_hash text NOT NULL,
      prefix text NOT NULL,
      scopes text[] NOT NULL DEFAULT ARRAY['users:read', 'users:write', 'chat', 'usage:read']::text[],
      rate_limit_per_minute integer NOT NULL,
      token_quota bigint,
      quota_period text,
      is_active boolean NOT NULL DEFAULT true,
      expires_at timestamptz,
      revoked_at timestamptz,
      rotated_from_id uuid,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT fk_api_keys_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE,
      CONSTRAINT fk_api_keys_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL,
      CONSTRAINT fk_api_keys_rotated_from FOREIGN KEY (rotated_from_id) REFERENCES api_keys(id) ON DELETE SET NULL,
      CONSTRAINT ck_api_keys_rate_limit CHECK (rate_limit_per_minute > 0),
      CONSTRAINT ck_api_keys_token_quota CHECK (token_quota IS NULL OR token_quota >= 0),
      CONSTRAINT ck_api_keys_quota_period CHECK (quota_period IS NULL OR quota_period IN ('day', 'month', 'total')),
      CONSTRAINT ck_api_keys_scopes CHECK (scopes <@ ARRAY['users:read', 'users:write', 'chat', 'usage:read']::text[])
    )`);
    await q.query(`CREATE UNIQUE INDEX uq_api_keys_key_hash ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX ix_api_keys_tenant_created ON api_keys (tenant_id, created_at)`);
    await q.query(`CREATE INDEX ix_api_keys_user_id ON api_keys (user_id)`);
    await q.query(`CREATE INDEX ix_api_keys_rotated_from_id ON api_keys (rotated_from_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
