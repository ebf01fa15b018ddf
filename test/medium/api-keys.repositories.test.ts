/**
 * The api-keys lib's repository on a real, migrated database: a tenant's view (insert, get, list, lock,
 * update, revocations) and its wall (tenant B's keys are not found, listed, changed or revoked through tenant
 * A's view), and the named cross-tenant methods: the lookup by hash (with tenant, user and membership, mapped by
 * ApiKeyLookup), last-use recording by id, and the revocation of a deleted user's keys in every tenant.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { UnitOfWork } from '#libs/database';
import type { ApiKey } from '../../libs/api-keys/src/api-key.entity';
import { ApiKeyRepository } from '../../libs/api-keys/src/api-key.repository';
import { ApiKeyLookup } from '../../libs/api-keys/src/auth/api-key.lookup';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

const hashOf = (plaintext: string) => createHash('sha256').update(plaintext).digest('hex');

describe('api-keys lib repository', () => {
  let db: MediumDatabase;
  let keys: ApiKeyRepository;
  let lookup: ApiKeyLookup;
  let tenantA: string;
  let tenantB: string;
  let alice: string;
  let bob: string;
  const tx = <T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> => db.transactions.run(work);

  /** Rows other libs own, written here directly: the repository under test only reads them. */
  async function row<T>(sql: string, params: unknown[]): Promise<T> {
    const rows: T[] = await db.dataSource.query(sql, params);
    return rows[0];
  }

  before(async () => {
    db = await openMediumDatabase();
    keys = new ApiKeyRepository(db.dataSource);
    lookup = new ApiKeyLookup(keys);
    const tenant = async (slug: string) =>
      (
        await row<{ id: string }>(`INSERT INTO tenants (name, slug, budget_usd) VALUES ($1, $1, 12.5) RETURNING id`, [
          slug,
        ])
      ).id;
    const user = async (email: string) =>
      (
        await row<{ id: string }>(`INSERT INTO users (clerk_user_id, email) VALUES ($1, $2) RETURNING id`, [
          `user_${randomUUID()}`,
          email,
        ])
      ).id;
    tenantA = await tenant('tenant-a');
    tenantB = await tenant('tenant-b');
    alice = await user('alice@example.test');
    bob = await user('bob@example.test');
    await db.dataSource.query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $3, 'owner'), ($2, $3, 'admin'), ($2, $4, 'member')`,
      [tenantA, tenantB, alice, bob],
    );
  });
  after(() => db?.close());

  let made = 0;
  function newKey(tenantId: string, userId: string | null, over: Partial<ApiKey> = {}) {
    const plaintext = `umb_test_${++made}_${randomUUID()}`;
    return tx((uow) =>
      keys.forTenant(tenantId).insert(uow, {
        name: `key ${made}`,
        userId,
        keyHash: hashOf(plaintext),
        prefix: plaintext.slice(0, 12),
        scopes: ['chat'],
        rateLimitPerMinute: 60,
        tokenQuota: null,
        quotaPeriod: null,
        budgetUsd: null,
        budgetPeriod: 'month',
        expiresAt: null,
        ...over,
      }),
    ).then((key) => ({ key, plaintext }));
  }

  describe("a tenant's view", () => {
    it('cannot be had without a tenant id', () => {
      for (const id of ['', '  ']) assert.throws(() => keys.forTenant(id), /without a tenant id/);
    });

    it('inserts in its tenant, gets, and updates only the given columns', async () => {
      const { key } = await newKey(tenantA, alice, { tokenQuota: 1000, quotaPeriod: 'month', budgetUsd: 1.5 });
      assert.equal(key.tenantId, tenantA);
      const got = await keys.forTenant(tenantA).get(key.id);
      assert.equal(got.tokenQuota, 1000);
      assert.equal(got.budgetUsd, 1.5);
      const updated = await tx((uow) => keys.forTenant(tenantA).update(uow, key.id, { rateLimitPerMinute: 5 }));
      assert.equal(updated.rateLimitPerMinute, 5);
      assert.equal(updated.name, key.name);
      assert.ok(updated.updatedAt.getTime() >= key.updatedAt.getTime());
    });

    it('answers not found for an unknown id or one that is not a uuid', async () => {
      for (const id of [randomUUID(), 'not-a-uuid']) {
        await assert.rejects(keys.forTenant(tenantA).get(id), { code: 'not_found' });
        await assert.rejects(
          tx((uow) => keys.forTenant(tenantA).lock(uow, id)),
          { code: 'not_found' },
        );
      }
    });

    it('lists oldest first; keys revoked in the past only when asked for, keys in grace always', async () => {
      const tenant = await row<{ id: string }>(`INSERT INTO tenants (name, slug) VALUES ('l', $1) RETURNING id`, [
        `list-${randomUUID()}`,
      ]);
      const live = (await newKey(tenant.id, null)).key;
      const grace = (await newKey(tenant.id, null, { revokedAt: new Date(Date.now() + 60_000) })).key;
      const revoked = (await newKey(tenant.id, null, { revokedAt: new Date(Date.now() - 1000) })).key;
      const view = keys.forTenant(tenant.id);
      assert.deepEqual(
        (await view.list(false)).map((k) => k.id),
        [live.id, grace.id],
      );
      assert.deepEqual(
        (await view.list(true)).map((k) => k.id),
        [live.id, grace.id, revoked.id],
      );
    });

    it('lock holds the row for the rest of the transaction', async () => {
      const { key } = await newKey(tenantA, alice);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = tx(async (uow) => {
        await keys.forTenant(tenantA).lock(uow, key.id);
        locked();
        await held;
        await keys.forTenant(tenantA).update(uow, key.id, { name: 'renamed by holder' });
      });
      await isLocked;
      const order: string[] = [];
      const waiter = tx(async (uow) => {
        const seen = await keys.forTenant(tenantA).lock(uow, key.id);
        order.push(`waiter saw ${seen.name}`);
      });
      order.push('holder releases');
      release();
      await Promise.all([holder, waiter]);
      assert.deepEqual(order, ['holder releases', 'waiter saw renamed by holder']);
    });

    it('revokeAll revokes its tenant keys still usable or in grace, and returns them', async () => {
      const tenant = await row<{ id: string }>(`INSERT INTO tenants (name, slug) VALUES ('r', $1) RETURNING id`, [
        `revoke-${randomUUID()}`,
      ]);
      const live = (await newKey(tenant.id, null)).key;
      const grace = (await newKey(tenant.id, null, { revokedAt: new Date(Date.now() + 60_000) })).key;
      await newKey(tenant.id, null, { revokedAt: new Date(Date.now() - 1000) });
      const other = (await newKey(tenantB, bob)).key;
      const revoked = await tx((uow) => keys.forTenant(tenant.id).revokeAll(uow));
      assert.deepEqual(revoked.map((r) => r.id).sort(), [live.id, grace.id].sort());
      assert.ok(revoked.every((r) => r.tenantId === tenant.id && r.prefix.startsWith('umb_test_')));
      for (const k of await keys.forTenant(tenant.id).list(true)) assert.ok(k.revokedAt!.getTime() <= Date.now());
      assert.equal((await keys.forTenant(tenantB).get(other.id)).revokedAt, null);
    });

    it("revokeAllOfMember revokes the member's keys in that tenant only", async () => {
      const inA = (await newKey(tenantA, alice)).key;
      const inB = (await newKey(tenantB, alice)).key;
      const bobs = (await newKey(tenantB, bob)).key;
      const revoked = await tx((uow) => keys.forTenant(tenantB).revokeAllOfMember(uow, alice));
      assert.deepEqual(
        revoked.map((r) => r.id),
        [inB.id],
      );
      assert.equal((await keys.forTenant(tenantA).get(inA.id)).revokedAt, null);
      assert.equal((await keys.forTenant(tenantB).get(bobs.id)).revokedAt, null);
    });
  });

  describe('the tenant wall', () => {
    it("tenant B's keys are not found, listed, locked, changed or revoked through tenant A's view", async () => {
      const { key: bKey } = await newKey(tenantB, bob);
      const viewA = keys.forTenant(tenantA);
      await assert.rejects(viewA.get(bKey.id), { code: 'not_found' });
      await assert.rejects(
        tx((uow) => viewA.lock(uow, bKey.id)),
        { code: 'not_found' },
      );
      assert.ok(!(await viewA.list(true)).some((k) => k.id === bKey.id));
      await assert.rejects(
        tx((uow) => viewA.update(uow, bKey.id, { name: 'taken over', isActive: false })),
        { code: 'not_found' },
      );
      await tx((uow) => viewA.revokeAllOfMember(uow, bob));
      const still = await keys.forTenant(tenantB).get(bKey.id);
      assert.equal(still.name, bKey.name);
      assert.equal(still.isActive, true);
      assert.equal(still.revokedAt, null);
    });
  });

  describe('cross-tenant methods', () => {
    it('byHash finds the key with its tenant, user and membership; ApiKeyLookup maps it', async () => {
      const { key, plaintext } = await newKey(tenantA, alice, { budgetUsd: 3, tokenQuota: 10, quotaPeriod: 'day' });
      const found = await lookup.byHash(hashOf(plaintext));
      assert.ok(found);
      assert.equal(found.id, key.id);
      assert.equal(found.tenantId, tenantA);
      assert.deepEqual({ ...found.tenant }, { id: tenantA, name: 'tenant-a', slug: 'tenant-a' });
      assert.equal(found.user?.id, alice);
      assert.equal(found.user?.email, 'alice@example.test');
      assert.equal(found.userStatus, 'active');
      assert.equal(found.userIsMember, true);
      assert.equal(found.userRole, 'owner');
      assert.equal(found.apiKey.budgetUsd, 3);
      assert.equal(found.apiKey.tokenQuota, 10);
      assert.equal(found.apiKey.tenantBudgetUsd, 12.5);
      assert.equal(found.apiKey.tenantBudgetPeriod, 'month');
      assert.equal(await lookup.byHash(hashOf('umb_no_such_key')), null);
    });

    it("byHash tells a key whose user is not (or no longer) a member of the key's tenant", async () => {
      const { plaintext } = await newKey(tenantA, bob);
      const found = await keys.byHash(hashOf(plaintext));
      assert.equal(found?.tenant_id, tenantA);
      assert.equal(found?.user_is_member, false);
      assert.equal(found?.user_role, null);
    });

    it('recordUses writes last_used_at by key id in any tenant, never moving it back', async () => {
      const a = (await newKey(tenantA, alice)).key;
      const b = (await newKey(tenantB, bob)).key;
      const later = new Date('2030-01-02T00:00:00Z');
      const earlier = new Date('2030-01-01T00:00:00Z');
      await keys.recordUses([
        { id: a.id, at: later },
        { id: b.id, at: earlier },
      ]);
      await keys.recordUses([{ id: a.id, at: earlier }]);
      assert.equal((await keys.forTenant(tenantA).get(a.id)).lastUsedAt?.toISOString(), later.toISOString());
      assert.equal((await keys.forTenant(tenantB).get(b.id)).lastUsedAt?.toISOString(), earlier.toISOString());
    });

    it("revokeAllOfUser revokes the user's keys in every tenant, and only theirs", async () => {
      const user = await row<{ id: string }>(`INSERT INTO users (email) VALUES ('gone@example.test') RETURNING id`, []);
      const inA = (await newKey(tenantA, user.id)).key;
      const inB = (await newKey(tenantB, user.id)).key;
      const bobs = (await newKey(tenantB, bob)).key;
      const revoked = await tx((uow) => keys.revokeAllOfUser(uow, user.id));
      assert.deepEqual(
        revoked.map((r) => `${r.tenantId}/${r.id}`).sort(),
        [`${tenantA}/${inA.id}`, `${tenantB}/${inB.id}`].sort(),
      );
      assert.equal((await keys.forTenant(tenantB).get(bobs.id)).revokedAt, null);
      assert.deepEqual(await tx((uow) => keys.revokeAllOfUser(uow, user.id)), []);
    });
  });
});
