/**
 * The admin read model on a real database, over seeded rows of the tables it reads: the directory pages tenants and
 * users across tenants (newest first, resumed after a position, filtered by email and tenant) with member and active
 * key counts; the stats count users, tenants, usable keys and the last day's key events, and sum recorded spend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformDirectoryRepository, PlatformStatsRepository } from '#libs/admin';
import { UsageRollupRepository } from '#libs/usage';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

const GHOST_TENANT = '6f1f9c1e-0000-4000-8000-0000000000ff';

describe('admin read model', () => {
  let db: MediumDatabase;
  let directory: PlatformDirectoryRepository;
  let stats: PlatformStatsRepository;
  const user: Record<string, string> = {};
  const tenant: Record<string, string> = {};

  const sql = (text: string, params: unknown[] = []) => db.dataSource.query(text, params);

  before(async () => {
    db = await openMediumDatabase();
    directory = new PlatformDirectoryRepository(db.dataSource);
    stats = new PlatformStatsRepository(db.dataSource);
    // Users oldest first, a day apart; ann and ann2 share an address (in another case).
    const users: [string, string, string | null][] = [
      ['ann', 'ann@example.com', 'user_ann'],
      ['bob', 'bob@example.com', 'user_bob'],
      ['cat', 'cat@example.com', null],
      ['ann2', 'ANN@example.com', 'user_ann2'],
    ];
    for (const [i, [name, email, clerk]] of users.entries()) {
      const [row] = await sql(
        `INSERT INTO users (email, clerk_user_id, created_at)
         VALUES ($1, $2, timestamptz '2026-01-01T00:00:00Z' + $3 * interval '1 day') RETURNING id`,
        [email, clerk, i],
      );
      user[name] = row.id;
    }
    const tenants: [string, string | null][] = [
      ['ann-personal', user.ann],
      ['acme', null],
      ['globex', null],
    ];
    for (const [i, [slug, owner]] of tenants.entries()) {
      const [row] = await sql(
        `INSERT INTO tenants (name, slug, personal_owner_id, created_at)
         VALUES ($1, $1, $2, timestamptz '2026-01-01T00:00:00Z' + $3 * interval '1 day') RETURNING id`,
        [slug, owner, i],
      );
      tenant[slug] = row.id;
    }
    await sql(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES
        ($1, $4, 'owner'), ($2, $4, 'member'), ($2, $5, 'owner'), ($3, $5, 'admin'), ($3, $6, 'member')`,
      [tenant['ann-personal'], tenant.acme, tenant.globex, user.ann, user.bob, user.cat],
    );
    // Keys of acme: usable, revoked, expired, inactive, and one rotated whose revocation lies ahead (still usable).
    let n = 0;
    const apiKey = (tenantId: string, extra: string) =>
      sql(
        `INSERT INTO api_keys (tenant_id, name, key_hash, prefix, rate_limit_per_minute, is_active, revoked_at, expires_at)
         VALUES ($1, 'k', $2, 'p', 60, ${extra})`,
        [tenantId, `hash-${++n}`],
      );
    await apiKey(tenant.acme, `true, NULL, NULL`);
    await apiKey(tenant.acme, `true, now() - interval '1 hour', NULL`);
    await apiKey(tenant.acme, `true, NULL, now() - interval '1 hour'`);
    await apiKey(tenant.acme, `false, NULL, NULL`);
    await apiKey(tenant.acme, `true, now() + interval '1 hour', NULL`);
    await apiKey(tenant.globex, `true, NULL, now() + interval '1 day'`);
    // OpenRouter keys: ann's active and auto-renewed with a limit, bob's active without one, cat's failed.
    await sql(
      `INSERT INTO openrouter_keys (user_id, key_encrypted, upstream_hash, label, spending_limit, status, auto_renewed,
                                    renewal_count, key_created_at)
       VALUES ($1, 'sealed', 'h-ann', 'ann key', 10, 'active', true, 2, timestamptz '2026-02-10T10:30:00Z'),
              ($2, 'sealed', 'h-bob', 'bob key', NULL, 'active', false, 0, now()),
              ($3, NULL, NULL, NULL, 5, 'provisioning_failed', false, 0, NULL)`,
      [user.ann, user.bob, user.cat],
    );
    await sql(
      `INSERT INTO audit_events (action, actor_type, created_at) VALUES
        ('openrouter_key.auto_renewed', 'system', now() - interval '1 hour'),
        ('openrouter_key.auto_renewed', 'system', now() - interval '2 days'),
        ('openrouter_key.provisioning_failed', 'system', now() - interval '1 minute'),
        ('openrouter_key.provisioning_failed', 'system', now() - interval '23 hours')`,
    );
    // Spend. Platform window [2026-01-10T00:30, 2026-01-12T00:30): ledger, hour and day pieces.
    const record = (tenantId: string, userId: string | null, at: string, cost: number) =>
      sql(
        `INSERT INTO usage_records (tenant_id, user_id, cost, status_code, outcome, created_at)
         VALUES ($1, $2, $3, 200, 'completed', $4)`,
        [tenantId, userId, cost, at],
      );
    const rollup = (tenantId: string, userId: string | null, g: string, at: string, requests: number, cost: number) =>
      sql(
        `INSERT INTO usage_rollups (tenant_id, user_id, granularity, bucket_start, requests, cost)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [tenantId, userId, g, at, requests, cost],
      );
    await record(tenant.acme, null, '2026-01-10T00:20:00Z', 100); // before the window
    await record(tenant.acme, null, '2026-01-10T00:40:00Z', 1);
    // Rollups agree with the ledger, as the recorder writes them: the hours of 2026-01-10 sum to its day.
    await rollup(tenant.acme, null, 'hour', '2026-01-10T00:00:00Z', 2, 101);
    await rollup(tenant.acme, null, 'hour', '2026-01-10T05:00:00Z', 1, 4);
    await rollup(tenant.acme, null, 'day', '2026-01-10T00:00:00Z', 3, 105);
    await rollup(tenant.acme, null, 'day', '2026-01-11T00:00:00Z', 3, 2);
    await record(tenant.globex, null, '2026-01-12T00:10:00Z', 0.125);
    await rollup(tenant.acme, null, 'day', '2026-01-12T00:00:00Z', 1, 1000); // its day is only partly in the window
    await rollup(GHOST_TENANT, null, 'day', '2026-01-05T00:00:00Z', 1, 0.5); // a deleted tenant's usage
    // ann's key, created 2026-02-10T10:30: the ledger to 11:00, hour rollups to midnight, then day rollups.
    await record(tenant.globex, user.ann, '2026-02-10T10:15:00Z', 100); // before the key
    await record(tenant.globex, user.ann, '2026-02-10T10:45:00Z', 0.5);
    await rollup(tenant.globex, user.ann, 'hour', '2026-02-10T10:00:00Z', 1, 50); // the hour the ledger covers
    await rollup(tenant.globex, user.ann, 'hour', '2026-02-10T11:00:00Z', 1, 0.25);
    await rollup(tenant.globex, user.ann, 'day', '2026-02-11T00:00:00Z', 5, 2);
    await rollup(tenant.globex, user.ann, 'hour', '2026-02-11T01:00:00Z', 1, 30); // the day rollup covers it
  });
  after(() => db?.close());

  describe('PlatformDirectoryRepository', () => {
    it('pages every tenant newest first with member and usable key counts, and resumes after a position', async () => {
      const first = await directory.tenantsPage(null, 2);
      assert.deepEqual(
        first.map((t) => [t.slug, Number(t.members), Number(t.api_keys_active)]),
        [
          ['globex', 2, 1],
          ['acme', 2, 2],
        ],
      );
      assert.equal(first[1].cursor_at, '2026-01-02T00:00:00.000000Z');
      const rest = await directory.tenantsPage({ at: first[1].cursor_at, id: first[1].id }, 2);
      assert.deepEqual(
        rest.map((t) => [t.slug, t.personal_owner_id]),
        [['ann-personal', user.ann]],
      );
    });

    it('finds a tenant by id or by slug, and nothing for an unknown one', async () => {
      assert.equal((await directory.tenant({ id: tenant.acme }))?.slug, 'acme');
      assert.equal(Number((await directory.tenant({ slug: 'acme' }))?.api_keys_active), 2);
      assert.equal(await directory.tenant({ slug: 'nope' }), null);
      assert.equal(await directory.tenant({ id: GHOST_TENANT }), null);
    });

    it('pages users newest first with their key state, and resumes after a position', async () => {
      const first = await directory.usersPage({}, null, 3);
      assert.deepEqual(
        first.map((u) => u.email),
        ['ANN@example.com', 'cat@example.com', 'bob@example.com'],
      );
      assert.equal(first[1].key_status, 'provisioning_failed');
      const rest = await directory.usersPage({}, { at: first[2].cursor_at, id: first[2].id }, 3);
      assert.deepEqual(
        rest.map((u) => [u.email, u.key_status, u.key_hash, Number(u.key_limit), u.key_renewal_count]),
        [['ann@example.com', 'active', 'h-ann', 10, 2]],
      );
    });

    it('narrows users by email (any case) and by tenant, together with a position', async () => {
      const byEmail = await directory.usersPage({ email: 'Ann@Example.com' }, null, 10);
      assert.deepEqual(
        byEmail.map((u) => u.id),
        [user.ann2, user.ann],
      );
      const ofGlobex = await directory.usersPage({ tenantId: tenant.globex }, null, 10);
      assert.deepEqual(
        ofGlobex.map((u) => u.id),
        [user.cat, user.bob],
      );
      const after = await directory.usersPage(
        { tenantId: tenant.globex },
        { at: ofGlobex[0].cursor_at, id: ofGlobex[0].id },
        10,
      );
      assert.deepEqual(
        after.map((u) => u.id),
        [user.bob],
      );
    });

    it('names users by id, Clerk id or email; an email may name two', async () => {
      assert.deepEqual(
        (await directory.usersNamed({ id: user.bob })).map((u) => u.id),
        [user.bob],
      );
      assert.deepEqual(
        (await directory.usersNamed({ clerkUserId: 'user_ann' })).map((u) => u.id),
        [user.ann],
      );
      assert.equal((await directory.usersNamed({ email: 'ann@EXAMPLE.com' })).length, 2);
      assert.deepEqual(await directory.usersNamed({ email: 'nobody@example.com' }), []);
    });

    it("lists the users' tenants with their roles, the personal tenant first", async () => {
      const rows = await directory.tenantsOfUsers([user.ann, user.bob]);
      assert.deepEqual(
        rows.filter((r) => r.user_id === user.ann).map((r) => [r.slug, r.role]),
        [
          ['ann-personal', 'owner'],
          ['acme', 'member'],
        ],
      );
      assert.deepEqual(
        rows.filter((r) => r.user_id === user.bob).map((r) => [r.slug, r.role]),
        [
          ['acme', 'owner'],
          ['globex', 'admin'],
        ],
      );
      assert.deepEqual(await directory.tenantsOfUsers([]), []);
    });
  });

  describe('PlatformStatsRepository', () => {
    it("counts users, tenants, usable tenant keys, users' active keys and the last day's key events", async () => {
      assert.deepEqual(await stats.counts(), {
        users: 4,
        tenants: 3,
        api_keys_active: 3,
        openrouter_keys_active: 2,
        openrouter_keys_auto_renewed: 1,
        renewals_last_24h: 1,
        provisioning_failures_last_24h: 2,
      });
    });

    it("sums every tenant's recorded spend in a window, from the ledger at its edges and the rollups between", async () => {
      const rollups = new UsageRollupRepository(db.dataSource);
      const spend = await rollups.platformSpend({
        from: new Date('2026-01-10T00:30:00Z'),
        to: new Date('2026-01-12T00:30:00Z'),
      });
      assert.equal(Number(spend.cost), 7.125);
      const none = await rollups.platformSpend({ from: new Date('2025-01-01'), to: new Date('2025-01-02') });
      assert.equal(Number(none?.cost ?? 0), 0);
    });

    it('lists spend per tenant from the day rollups, largest first, a deleted tenant without a name', async () => {
      const rows = await stats.spendByTenant(10);
      assert.deepEqual(
        rows.map((r) => [r.tenant_id, r.slug, Number(r.requests), Number(r.cost)]),
        [
          [tenant.acme, 'acme', 7, 1107],
          [tenant.globex, 'globex', 5, 2],
          [GHOST_TENANT, null, 1, 0.5],
        ],
      );
      assert.equal((await stats.spendByTenant(2)).length, 2);
    });

    it("gives each active key with a limit what was recorded since the key's creation", async () => {
      const rows = await stats.limitedKeysWithRecordedSpend();
      assert.deepEqual(
        rows.map((r) => [r.user_id, r.email, r.label, r.upstream_hash, Number(r.spending_limit), Number(r.recorded)]),
        [[user.ann, 'ann@example.com', 'ann key', 'h-ann', 10, 2.75]],
      );
    });
  });
});
