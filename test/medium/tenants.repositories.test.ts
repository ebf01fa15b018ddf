/**
 * The tenants lib's repositories on a real, migrated database: every method of TenantRepository and of
 * MembershipRepository (its tenant view and its two reads by user), the tenant wall (tenant B's memberships are
 * invisible and untouchable through tenant A's view), the unique keys the tenant insertion relies on, and that
 * `lock` really takes the row lock of the unit of work it runs in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { insertTenant, MembershipRepository, TenantMappingService } from '#libs/tenants';
import { TenantRepository } from '../../libs/tenants/src/tenant.repository';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

/** What the test needs beyond the repositories under test: users to be members, and row-lock facts. */
class ProbeRepository extends TableRepository {
  constructor(dataSource: DataSource) {
    super(dataSource);
  }
  async user(email: string, status = 'active'): Promise<string> {
    const [row] = await this.manager().query(`INSERT INTO users (email, status) VALUES ($1, $2) RETURNING id`, [
      email,
      status,
    ]);
    return row.id;
  }
  /** True when this unit of work holds a row lock on the tenant (the row's xmax is its transaction). */
  async lockedByMe(uow: UnitOfWork, tenantId: string): Promise<boolean> {
    const [row] = await this.manager(uow).query(
      `SELECT xmax::text = (txid_current() % 4294967296)::text AS mine FROM tenants WHERE id = $1`,
      [tenantId],
    );
    return row.mine;
  }
  /** From another connection: fails at once (55P03) while someone holds the row lock. */
  async tryLockNoWait(tenantId: string): Promise<void> {
    await this.manager().query(`SELECT id FROM tenants WHERE id = $1 FOR UPDATE NOWAIT`, [tenantId]);
  }
  async role(tenantId: string, userId: string): Promise<string | null> {
    const rows = await this.manager().query(`SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);
    return rows[0]?.role ?? null;
  }
}

describe('tenants repositories', () => {
  let db: MediumDatabase;
  let tenants: TenantRepository;
  let memberships: MembershipRepository;
  let probe: ProbeRepository;
  const run = <T>(work: (uow: UnitOfWork) => Promise<T>) => db.transactions.run(work);

  before(async () => {
    db = await openMediumDatabase();
    tenants = new TenantRepository(db.dataSource);
    memberships = new MembershipRepository(db.dataSource);
    probe = new ProbeRepository(db.dataSource);
  });
  after(() => db?.close());

  async function tenant(slug: string, extra: { clerkOrgId?: string; personalOwnerId?: string } = {}) {
    const row = await run((uow) => tenants.insertUnlessTaken(uow, { name: slug, slug, ...extra }, slug));
    assert.ok(row);
    return row;
  }

  describe('TenantRepository', () => {
    it('inserts unless a unique key is taken: slug, organization, personal owner', async () => {
      const owner = await probe.user('personal@example.com');
      const org = await tenant('acme', { clerkOrgId: 'org_acme' });
      assert.equal(org.slug, 'acme');
      assert.equal(org.personalOwnerId, null);
      assert.ok(org.createdAt instanceof Date);
      const personal = await tenant('personal-x', { personalOwnerId: owner });
      assert.equal(personal.personalOwnerId, owner);

      const again = (values: Parameters<TenantRepository['insertUnlessTaken']>[1], slug: string) =>
        run((uow) => tenants.insertUnlessTaken(uow, values, slug));
      assert.equal(await again({ name: 'x', slug: 'acme' }, 'acme'), null);
      assert.equal(await again({ name: 'x', slug: 'y', clerkOrgId: 'org_acme' }, 'other-1'), null);
      assert.equal(await again({ name: 'x', slug: 'y', personalOwnerId: owner }, 'other-2'), null);

      assert.equal((await tenants.byOrganization('org_acme'))?.id, org.id);
      assert.equal((await tenants.byPersonalOwner(owner))?.id, personal.id);
      assert.equal(await tenants.byOrganization('org_none'), null);
      assert.equal(await tenants.byPersonalOwner(randomUUID()), null);
    });

    it('insertTenant derives a free slug, and refuses a taken explicit one with slug_taken', async () => {
      await tenant('taken');
      const derived = await run((uow) => insertTenant(tenants, uow, { name: 'Taken', slug: 'taken' }));
      assert.match(derived.slug, /^taken-[0-9a-f]{6}$/);
      await assert.rejects(
        run((uow) => insertTenant(tenants, uow, { name: 'Taken', slug: 'taken' }, { explicit: true })),
        (err: { code?: string }) => err.code === 'slug_taken',
      );
    });

    it('lock returns the row and holds its row lock for the unit of work; an unknown id is null', async () => {
      const t = await tenant('lockable');
      await run(async (uow) => {
        assert.equal(await probe.lockedByMe(uow, t.id), false);
        const locked = await tenants.lock(uow, t.id);
        assert.deepEqual(locked, { id: t.id, name: 'lockable', slug: 'lockable', personalOwnerId: null });
        assert.equal(await probe.lockedByMe(uow, t.id), true);
        if (process.env.TEST_DATABASE_URL) {
          // A server has more than one connection: another one cannot take the lock meanwhile.
          await assert.rejects(probe.tryLockNoWait(t.id), (err: { code?: string }) => err.code === '55P03');
        }
      });
      assert.equal(await run((uow) => tenants.lock(uow, randomUUID())), null);
    });

    it('lock then update in one unit of work commits the update; a throw rolls it back', async () => {
      const t = await tenant('renamed');
      const renamed = await run(async (uow) => {
        await tenants.lock(uow, t.id);
        return tenants.rename(uow, t.id, 'Renamed');
      });
      assert.equal(renamed.name, 'Renamed');
      assert.equal(renamed.slug, 'renamed');
      await assert.rejects(
        run(async (uow) => {
          await tenants.lock(uow, t.id);
          await tenants.rename(uow, t.id, 'Lost');
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal((await run((uow) => tenants.lock(uow, t.id)))?.name, 'Renamed');
    });

    it('lockByOrganization finds the organization tenant, locked', async () => {
      const t = await tenant('org-two', { clerkOrgId: 'org_two' });
      await run(async (uow) => {
        assert.equal((await tenants.lockByOrganization(uow, 'org_two'))?.id, t.id);
        assert.equal(await probe.lockedByMe(uow, t.id), true);
        assert.equal(await tenants.lockByOrganization(uow, 'org_unknown'), null);
      });
    });

    it('slugTakenByOther, setNameAndSlug', async () => {
      const a = await tenant('slug-a');
      await tenant('slug-b');
      await run(async (uow) => {
        assert.equal(await tenants.slugTakenByOther(uow, 'slug-b', a.id), true);
        assert.equal(await tenants.slugTakenByOther(uow, 'slug-a', a.id), false, 'its own slug is not taken');
        assert.equal(await tenants.slugTakenByOther(uow, 'slug-free', a.id), false);
        await tenants.setNameAndSlug(uow, a.id, 'A2', 'slug-a2');
      });
      assert.deepEqual(await run((uow) => tenants.lock(uow, a.id)), {
        id: a.id,
        name: 'A2',
        slug: 'slug-a2',
        personalOwnerId: null,
      });
    });

    it('budgetOf and setBudget', async () => {
      const t = await tenant('budgeted');
      assert.deepEqual(await tenants.budgetOf(t.id), { budget_usd: null, budget_period: 'month' });
      await run((uow) => tenants.setBudget(uow, t.id, 12.5, 'day'));
      const budget = await tenants.budgetOf(t.id);
      assert.equal(Number(budget?.budget_usd), 12.5);
      assert.equal(budget?.budget_period, 'day');
      assert.equal(await tenants.budgetOf(randomUUID()), null);
    });

    it('delete removes the tenant and its memberships', async () => {
      const t = await tenant('doomed');
      const u = await probe.user('doomed@example.com');
      await run((uow) => memberships.forTenant(t.id).insert(uow, u, 'owner'));
      await run((uow) => tenants.delete(uow, t.id));
      assert.equal(await run((uow) => tenants.lock(uow, t.id)), null);
      assert.equal(await probe.role(t.id, u), null);
    });

    it('refuses an empty tenant id', async () => {
      await assert.rejects(
        run((uow) => tenants.lock(uow, '')),
        /without a tenant id/,
      );
    });
  });

  describe('MembershipRepository', () => {
    let a: string;
    let b: string;
    let owner: string;
    let admin: string;
    let pending: string;
    let outsider: string;

    before(async () => {
      a = (await tenant('members-a')).id;
      b = (await tenant('members-b')).id;
      owner = await probe.user('owner@example.com');
      admin = await probe.user('admin@example.com');
      pending = await probe.user('pending@example.com', 'pending');
      outsider = await probe.user('outsider@example.com');
      // One transaction each: now() is the transaction's time, and the join order is by it.
      const inA = memberships.forTenant(a);
      await run((uow) => inA.insertOwner(uow, owner));
      assert.equal(await run((uow) => inA.insert(uow, admin, 'admin')), true);
      assert.equal(await run((uow) => inA.insert(uow, pending, 'member')), true);
      await run((uow) => memberships.forTenant(b).insertOwner(uow, outsider));
    });

    it('insert is false for a member already (and leaves the role)', async () => {
      assert.equal(await run((uow) => memberships.forTenant(a).insert(uow, admin, 'member')), false);
      assert.equal(await probe.role(a, admin), 'admin');
    });

    it('list, find and userIds show the tenant’s members with their user', async () => {
      const inA = memberships.forTenant(a);
      const list = await inA.list();
      assert.deepEqual(
        list.map((m) => [m.email, m.role, m.status]),
        [
          ['owner@example.com', 'owner', 'active'],
          ['admin@example.com', 'admin', 'active'],
          ['pending@example.com', 'member', 'pending'],
        ],
      );
      const found = await inA.find(pending);
      assert.equal(found?.userId, pending);
      assert.equal(found?.status, 'pending');
      assert.match(found!.joinedKey, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      assert.deepEqual((await inA.userIds()).sort(), [owner, admin, pending].sort());
    });

    it('pages in join order after a position', async () => {
      const inA = memberships.forTenant(a);
      const first = await inA.page(null, 2);
      assert.deepEqual(
        first.map((m) => m.userId),
        [owner, admin],
      );
      const rest = await inA.page(first[1], 2);
      assert.deepEqual(
        rest.map((m) => m.userId),
        [pending],
      );
    });

    it("the wall: tenant B's members are invisible and untouchable through tenant A's view", async () => {
      const inA = memberships.forTenant(a);
      assert.equal(await inA.find(outsider), null);
      assert.ok(!(await inA.list()).some((m) => m.userId === outsider));
      assert.ok(!(await inA.userIds()).includes(outsider));
      await run(async (uow) => {
        assert.equal(await inA.lockRole(uow, outsider), null);
        await inA.setRole(uow, outsider, 'member');
        await inA.delete(uow, outsider);
      });
      assert.equal(await probe.role(b, outsider), 'owner', "B's membership is untouched");
      assert.equal(await memberships.forTenant(b).countOwners(), 1);
      assert.deepEqual(
        (await memberships.forTenant(b).list()).map((m) => m.userId),
        [outsider],
      );
    });

    it('lockRole, countOwners, setRole and delete within the tenant', async () => {
      const inA = memberships.forTenant(a);
      assert.equal(await inA.countOwners(), 1);
      await run(async (uow) => {
        assert.equal(await inA.lockRole(uow, admin), 'admin');
        await inA.setRole(uow, admin, 'owner');
      });
      assert.equal(await inA.countOwners(), 2);
      await run((uow) => inA.setRole(uow, admin, 'admin'));
      await run((uow) => inA.delete(uow, pending));
      assert.equal(await inA.find(pending), null);
      await run((uow) => inA.insert(uow, pending, 'member'));
    });

    it('upsertFromClaim adds, follows the claim only when asked, and never demotes an owner', async () => {
      const t = (await tenant('claims')).id;
      const inT = memberships.forTenant(t);
      const u = await probe.user('claim@example.com');
      await run((uow) => inT.upsertFromClaim(uow, u, 'member', true));
      assert.equal(await probe.role(t, u), 'member');
      await run((uow) => inT.upsertFromClaim(uow, u, 'admin', false));
      assert.equal(await probe.role(t, u), 'member', 'without followClaim the role stays');
      await run((uow) => inT.upsertFromClaim(uow, u, 'admin', true));
      assert.equal(await probe.role(t, u), 'admin');
      await run((uow) => inT.setRole(uow, u, 'owner'));
      await run((uow) => inT.upsertFromClaim(uow, u, 'member', true));
      assert.equal(await probe.role(t, u), 'owner', 'an owner is never demoted by a claim');
    });

    it("tenantsOf and tenantOf read the user's own tenants, by id or slug", async () => {
      const personal = await tenant('personal-owner', { personalOwnerId: owner });
      await run((uow) => memberships.forTenant(personal.id).insertOwner(uow, owner));
      const mine = await memberships.tenantsOf(owner);
      assert.deepEqual(
        mine.map((t) => [t.slug, t.role]),
        [
          ['personal-owner', 'owner'],
          ['members-a', 'owner'],
        ],
      );
      assert.equal(mine[0].personalOwnerId, owner);
      assert.equal((await memberships.tenantOf(owner, a))?.role, 'owner');
      assert.equal((await memberships.tenantOf(admin, 'members-a'))?.role, 'admin');
      assert.equal(await memberships.tenantOf(owner, b), null, 'not a member of B');
      assert.equal(await memberships.tenantOf(owner, 'members-b'), null);
    });

    it('refuses a view without a tenant id', () => {
      assert.throws(() => memberships.forTenant(''), /without a tenant id/);
    });
  });

  describe('TenantMappingService (login bookkeeping) on the repositories', () => {
    it('ensures the personal and the organization tenant once, with their memberships', async () => {
      const mapping = new TenantMappingService(tenants, memberships);
      const user = { id: await probe.user('login@example.com'), firstName: 'Ada', email: 'login@example.com' };
      const first = await run((uow) => mapping.ensurePersonalTenant(uow, user));
      const second = await run((uow) => mapping.ensurePersonalTenant(uow, user));
      assert.equal(second.id, first.id);
      assert.equal(first.name, "Ada's workspace");
      assert.equal(await probe.role(first.id, user.id), 'owner');
      const org = { id: 'org_login', slug: 'Login Org', role: 'org:admin' };
      const orgTenant = await run((uow) => mapping.ensureOrganizationTenant(uow, org, user.id));
      assert.equal(orgTenant.slug, 'login-org');
      assert.equal(await probe.role(orgTenant.id, user.id), 'admin');
      await run((uow) => mapping.ensureOrganizationTenant(uow, { ...org, role: 'org:member' }, user.id));
      assert.equal(await probe.role(orgTenant.id, user.id), 'member');
    });
  });
});
