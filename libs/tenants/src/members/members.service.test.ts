/**
 * MembersService's rules around mocked repositories (Nest testing module, no database): the last owner stays,
 * only an owner grants, changes or removes `owner`, a key acts as its user, an existing member is not added
 * twice, an unknown tenant is a 404. The memberships mock is one tenant's view; the unit of work is a stub that
 * the mocked Transactions hands to the work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService } from '#libs/audit';
import { AppError } from '#libs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { TenantChangeHooks } from '../hooks/tenant-change.hooks';
import type { TenantRole } from '../roles';
import { TenantRepository } from '../tenant.repository';
import { Invitee, INVITEE_DIRECTORY } from './invitee-directory';
import { MembershipRepository, MemberRow } from './membership.repository';
import { MembersService } from './members.service';

const TENANT = '6f1f9c1e-0000-4000-8000-000000000001';
const OWNER = 'u-owner';
const OWNER2 = 'u-owner-2';
const ADMIN = 'u-admin';
const MEMBER = 'u-member';
const scope: AuditScope = { actor: { type: 'user', id: 'u-actor' }, requestId: null };

/** One tenant's memberships in a map (the view `forTenant` hands out); records every write. */
class MockMembers {
  roles = new Map<string, TenantRole>();
  writes: string[] = [];
  async lockRole(_uow: UnitOfWork, userId: string) {
    return this.roles.get(userId) ?? null;
  }
  async countOwners() {
    return [...this.roles.values()].filter((r) => r === 'owner').length;
  }
  async insert(_uow: UnitOfWork, userId: string, role: TenantRole) {
    if (this.roles.has(userId)) return false;
    this.roles.set(userId, role);
    this.writes.push(`insert ${userId} ${role}`);
    return true;
  }
  async setRole(_uow: UnitOfWork, userId: string, role: TenantRole) {
    this.roles.set(userId, role);
    this.writes.push(`role ${userId} ${role}`);
  }
  async delete(_uow: UnitOfWork, userId: string) {
    this.roles.delete(userId);
    this.writes.push(`delete ${userId}`);
  }
  async find(userId: string): Promise<MemberRow | null> {
    const role = this.roles.get(userId);
    return role ? ({ userId, role } as MemberRow) : null;
  }
}

async function build(roles: Record<string, TenantRole>, opts: { tenantExists?: boolean } = {}) {
  const members = new MockMembers();
  for (const [id, role] of Object.entries(roles)) members.roles.set(id, role);
  const audits: { action: string; metadata?: unknown }[] = [];
  const published: string[] = [];
  const removing: string[] = [];
  const scopes: string[] = [];
  const locked: string[] = [];
  const uow = {} as UnitOfWork;
  const tenants = {
    lock: async (_uow: UnitOfWork, id: string) => {
      locked.push(id);
      return opts.tenantExists === false ? null : { id, name: 't', slug: 't', personalOwnerId: null };
    },
  };
  const memberships = {
    forTenant: (tenantId: string) => {
      scopes.push(tenantId);
      return Object.assign(members, { tenantId });
    },
  };
  const invitees = {
    byId: async (_uow: UnitOfWork, id: string): Promise<Invitee> => ({ id, status: 'active', created: false }),
    byEmail: async (_uow: UnitOfWork, email: string): Promise<Invitee> => ({
      id: `u-${email}`,
      status: 'pending',
      created: true,
    }),
  };
  const hooks = {
    memberRemoving: async (e: { userId: string }) => {
      removing.push(e.userId);
      return [];
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      MembersService,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work(uow) } },
      { provide: TenantRepository, useValue: tenants },
      { provide: MembershipRepository, useValue: memberships },
      { provide: INVITEE_DIRECTORY, useValue: invitees },
      { provide: AuditService, useValue: { record: async (e: { action: string }) => audits.push(e) } },
      { provide: TenantChangeHooks, useValue: hooks },
      { provide: InvalidationBus, useValue: { publish: async (_t: string, id: string) => published.push(id) } },
    ],
  }).compile();
  return { service: moduleRef.get(MembersService), uow, members, audits, published, removing, scopes, locked };
}

function code(expected: string) {
  return (err: unknown) => err instanceof AppError && err.code === expected;
}

describe('MembersService: the last owner', () => {
  it('cannot leave: removal is refused and nothing is deleted', async () => {
    const { service, members, audits, removing } = await build({ [OWNER]: 'owner', [ADMIN]: 'admin' });
    await assert.rejects(service.remove(TENANT, 'owner', OWNER, scope), code('last_owner'));
    assert.equal(members.roles.get(OWNER), 'owner');
    assert.deepEqual(members.writes, []);
    assert.deepEqual(audits, []);
    assert.deepEqual(removing, []);
  });

  it('cannot be demoted', async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [ADMIN]: 'admin' });
    await assert.rejects(service.changeRole(TENANT, 'owner', OWNER, 'admin', scope), code('last_owner'));
    assert.equal(members.roles.get(OWNER), 'owner');
    assert.deepEqual(members.writes, []);
  });

  it('may be "changed" to owner again (no change, no owner count needed)', async () => {
    const { service, members, audits } = await build({ [OWNER]: 'owner' });
    const row = await service.changeRole(TENANT, 'owner', OWNER, 'owner', scope);
    assert.equal(row.role, 'owner');
    assert.deepEqual(members.writes, []);
    assert.deepEqual(audits, []);
  });

  it('one of two owners may be demoted or removed', async () => {
    const { service, members, audits, removing } = await build({ [OWNER]: 'owner', [OWNER2]: 'owner' });
    await service.changeRole(TENANT, 'owner', OWNER2, 'member', scope);
    assert.equal(members.roles.get(OWNER2), 'member');
    // OWNER is now the only owner again.
    await assert.rejects(service.remove(TENANT, 'owner', OWNER, scope), code('last_owner'));
    members.roles.set(OWNER2, 'owner');
    await service.remove(TENANT, 'owner', OWNER, scope);
    assert.equal(members.roles.has(OWNER), false);
    assert.deepEqual(removing, [OWNER]);
    assert.deepEqual(
      audits.map((a) => a.action),
      ['member.role_changed', 'member.removed'],
    );
  });

  it('Clerk removing the last owner keeps the membership', async () => {
    const { service, uow, members } = await build({ [OWNER]: 'owner' });
    const result = await service.mirrorRemoval(uow, TENANT, OWNER, scope);
    assert.deepEqual(result, { removed: false, afterCommit: [] });
    assert.equal(members.roles.get(OWNER), 'owner');
  });
});

describe('MembersService: Clerk mirroring', () => {
  it('never demotes an owner to the Clerk role, but re-roles others and adds newcomers', async () => {
    const { service, uow, members } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    assert.equal(await service.mirrorMembership(uow, TENANT, OWNER, 'member', scope, 'org:member'), false);
    assert.equal(members.roles.get(OWNER), 'owner');
    assert.equal(await service.mirrorMembership(uow, TENANT, MEMBER, 'admin', scope, 'org:admin'), true);
    assert.equal(members.roles.get(MEMBER), 'admin');
    assert.equal(await service.mirrorMembership(uow, TENANT, 'u-new', 'member', scope, 'org:member'), true);
    assert.equal(members.roles.get('u-new'), 'member');
  });
});

describe('MembersService: only an owner handles the owner role', () => {
  it('an admin cannot grant owner, neither when adding nor when re-roling', async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    await assert.rejects(service.add(TENANT, 'admin', { userId: 'u-new', role: 'owner' }, scope), code('forbidden'));
    await assert.rejects(service.changeRole(TENANT, 'admin', MEMBER, 'owner', scope), code('forbidden'));
    assert.deepEqual(members.writes, []);
  });

  it('an admin cannot demote or remove an owner, even one of several', async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [OWNER2]: 'owner' });
    await assert.rejects(service.changeRole(TENANT, 'admin', OWNER2, 'member', scope), code('forbidden'));
    await assert.rejects(service.remove(TENANT, 'admin', OWNER2, scope), code('forbidden'));
    assert.deepEqual(members.writes, []);
  });

  it('an owner grants owner', async () => {
    const { service, members, audits } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    await service.changeRole(TENANT, 'owner', MEMBER, 'owner', scope);
    assert.equal(members.roles.get(MEMBER), 'owner');
    assert.deepEqual(audits[0].metadata, { from: 'member', to: 'owner' });
  });

  it('a key acts with its user role: an admin user’s key cannot grant owner, an owner user’s key can', async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [ADMIN]: 'admin', [MEMBER]: 'member' });
    await assert.rejects(service.changeRole(TENANT, { keyUserId: ADMIN }, MEMBER, 'owner', scope), code('forbidden'));
    await service.changeRole(TENANT, { keyUserId: OWNER }, MEMBER, 'owner', scope);
    assert.equal(members.roles.get(MEMBER), 'owner');
  });

  it('a key whose user is a plain member, or no user, manages nothing', async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [MEMBER]: 'member', [ADMIN]: 'admin' });
    await assert.rejects(service.remove(TENANT, { keyUserId: MEMBER }, ADMIN, scope), code('forbidden'));
    await assert.rejects(service.remove(TENANT, { keyUserId: null }, ADMIN, scope), code('forbidden'));
    assert.deepEqual(members.writes, []);
  });

  it("a key never touches its own user's membership", async () => {
    const { service, members } = await build({ [OWNER]: 'owner', [OWNER2]: 'owner' });
    await assert.rejects(service.changeRole(TENANT, { keyUserId: OWNER2 }, OWNER2, 'member', scope), code('forbidden'));
    await assert.rejects(service.remove(TENANT, { keyUserId: OWNER2 }, OWNER2, scope), code('forbidden'));
    assert.deepEqual(members.writes, []);
  });
});

describe('MembersService: role changes and adding', () => {
  it('an admin changes member ↔ admin, audited with from/to, and the user’s caches are dropped', async () => {
    const { service, members, audits, published } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    const row = await service.changeRole(TENANT, 'admin', MEMBER, 'admin', scope);
    assert.equal(row.role, 'admin');
    assert.deepEqual(members.writes, [`role ${MEMBER} admin`]);
    assert.deepEqual(audits, [
      {
        action: 'member.role_changed',
        ...scope,
        tenantId: TENANT,
        target: { type: 'user', id: MEMBER },
        metadata: { from: 'member', to: 'admin' },
      },
    ]);
    assert.deepEqual(published, [MEMBER]);
  });

  it('re-roling someone who is not a member is not_found', async () => {
    const { service } = await build({ [OWNER]: 'owner' });
    await assert.rejects(service.changeRole(TENANT, 'owner', 'u-stranger', 'admin', scope), code('not_found'));
  });

  it('adding an existing member is already_member, with no audit row', async () => {
    const { service, members, audits, published } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    await assert.rejects(
      service.add(TENANT, 'owner', { userId: MEMBER, role: 'admin' }, scope),
      code('already_member'),
    );
    assert.equal(members.roles.get(MEMBER), 'member');
    assert.deepEqual(audits, []);
    assert.deepEqual(published, []);
  });

  it('adding by email a new user records the pending member', async () => {
    const { service, members, audits } = await build({ [OWNER]: 'owner' });
    const row = await service.add(TENANT, 'admin', { email: 'new@example.com', role: 'member' }, scope);
    assert.equal(row.userId, 'u-new@example.com');
    assert.equal(members.roles.get('u-new@example.com'), 'member');
    assert.deepEqual(audits[0].metadata, { role: 'member', pending: true });
  });
});

describe('MembersService: the tenant', () => {
  it('locks the tenant first and works only through that tenant’s memberships', async () => {
    const { service, scopes, locked } = await build({ [OWNER]: 'owner', [MEMBER]: 'member' });
    await service.changeRole(TENANT, 'owner', MEMBER, 'admin', scope);
    await service.remove(TENANT, 'owner', MEMBER, scope);
    assert.deepEqual(locked, [TENANT, TENANT]);
    assert.ok(scopes.length > 0 && scopes.every((t) => t === TENANT));
  });

  it('an unknown tenant is not_found, and nothing is written', async () => {
    const { service, members, audits } = await build({ [OWNER]: 'owner' }, { tenantExists: false });
    await assert.rejects(service.add(TENANT, 'owner', { userId: 'u-new', role: 'member' }, scope), code('not_found'));
    await assert.rejects(service.remove(TENANT, 'owner', OWNER, scope), code('not_found'));
    assert.deepEqual(members.writes, []);
    assert.deepEqual(audits, []);
  });
});
