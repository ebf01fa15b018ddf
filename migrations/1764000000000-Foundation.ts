import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, tenants, memberships, login sessions, OpenRouter keys and the audit trail. */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      clerk_user_id text,
      email text,
      first_name text,
      last_name text,
      image_url text,
      status text NOT NULL DEFAULT 'active',
      last_login_at timestamptz,
      login_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ck_users_status CHECK (status IN ('active', 'pending', 'deactivated'))
    )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_users_clerk_user_id ON users (clerk_user_id) WHERE clerk_user_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX ix_users_email ON users (lower(email))`);
    // At most one pending (not yet signed-in) user per email, so that an invitation is claimed once.
    await q.query(`CREATE UNIQUE INDEX uq_users_pending_email ON users (lower(email)) WHERE clerk_user_id IS NULL`);

    await q.query(`CREATE TABLE tenants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      slug text NOT NULL,
      clerk_org_id text,
      personal_owner_id uuid REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_tenants_slug UNIQUE (slug)
    )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_tenants_clerk_org_id ON tenants (clerk_org_id) WHERE clerk_org_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX uq_tenants_personal_owner ON tenants (personal_owner_id) WHERE personal_owner_id IS NOT NULL`,
    );

    await q.query(`CREATE TABLE memberships (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      role text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_memberships_tenant_user UNIQUE (tenant_id, user_id),
      CONSTRAINT ck_memberships_role CHECK (role IN ('owner', 'admin', 'member'))
    )`);
    await q.query(`CREATE INDEX ix_memberships_user_id ON memberships (user_id)`);

    await q.query(`CREATE TABLE user_sessions (
      session_id text PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX ix_user_sessions_user_id ON user_sessions (user_id)`);

    // One row per user: the current OpenRouter key (encrypted) and the provisioning state.
    await q.query(`CREATE TABLE openrouter_keys (
      user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      key_encrypted text,
      upstream_hash text,
      label text,
      name text,
      spending_limit numeric(12, 4),
      status text NOT NULL DEFAULT 'none',
      last_error_code text,
      last_attempt_at timestamptz,
      auto_renewed boolean NOT NULL DEFAULT false,
      renewal_count integer NOT NULL DEFAULT 0,
      last_renewal_at timestamptz,
      key_created_at timestamptz,
      lease_owner text,
      lease_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ck_openrouter_keys_status CHECK (status IN ('none', 'active', 'provisioning_failed', 'disabled'))
    )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_openrouter_keys_upstream_hash ON openrouter_keys (upstream_hash) WHERE upstream_hash IS NOT NULL`,
    );

    // Upstream keys replaced but not yet deleted at OpenRouter: never forgotten, retried until gone.
    await q.query(`CREATE TABLE openrouter_key_deletions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      upstream_hash text NOT NULL,
      user_id uuid REFERENCES users(id) ON DELETE SET NULL,
      reason text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      last_error_code text,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_openrouter_key_deletions_hash UNIQUE (upstream_hash)
    )`);
    await q.query(`CREATE INDEX ix_openrouter_key_deletions_next ON openrouter_key_deletions (next_attempt_at)`);
    await q.query(`CREATE INDEX ix_openrouter_key_deletions_user_id ON openrouter_key_deletions (user_id)`);

    await q.query(`CREATE TABLE user_provider_keys (
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      provider text NOT NULL,
      key_encrypted text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_user_provider_keys PRIMARY KEY (user_id, provider)
    )`);

    // Append-only: no foreign keys, so that the trail outlives what it describes.
    await q.query(`CREATE TABLE audit_events (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      action text NOT NULL,
      actor_type text NOT NULL,
      actor_id text,
      tenant_id uuid,
      target_type text,
      target_id text,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      request_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ck_audit_events_actor_type CHECK (actor_type IN ('user', 'api_key', 'system', 'webhook', 'cli'))
    )`);
    await q.query(`CREATE INDEX ix_audit_events_tenant_created ON audit_events (tenant_id, created_at DESC)`);
    await q.query(`CREATE INDEX ix_audit_events_created ON audit_events (created_at DESC)`);
    await q.query(`CREATE INDEX ix_audit_events_action_created ON audit_events (action, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'user_provider_keys',
      'openrouter_key_deletions',
      'openrouter_keys',
      'user_sessions',
      'memberships',
      'tenants',
      'users',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
