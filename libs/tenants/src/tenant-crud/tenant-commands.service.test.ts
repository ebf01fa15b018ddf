/**
 * TenantCommands' rules around mocked repositories (Nest testing module, no database): what creating, renaming
 * and deleting a tenant write and audit, what is refused (a slug that looks like an id, a taken explicit slug, a
 * personal tenant's deletion, an unknown tenant), and that the change hooks run inside the transaction while
 * their follow-up work runs only after the commit.
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
import { MembershipRepository } from '../members/membership.repository';
import { InsertedTenant, LockedTenant, TenantRepository, TenantValues } from '../tenant.repository';
import { TenantCommands } from './tenant-commands.service';

const TENANT = '6f1f9c1e-0000-4000-8000-00000000000a';
const OWNER = 'u-owner';
const scope: AuditScope = { actor: { type: 'user', id: OWNER }, requestId: 'req-1' };

/** The tenants table as a map, with the slugs in use; records every write in the shared log. */
class MockTenants {
  rows = new Map<string, LockedTenant & { clerkOrgId?: string }>();
  takenSlugs = new Set<string>();
  constructor(private readonly log: string[]) {}
  async lock(_uow: UnitOfWork, id: string) {
    this.log.push(`lock ${id}`);
    const row = this.rows.get(id);
    return row ? { id: row.id, name: row.name, slug: row.slug, personalOwnerId: row.personalOwnerId } : null;
  }
  async insertUnlessTaken(_uow: UnitOfWork, values: TenantValues, slug: string): Promise<InsertedTenant | null> {
    if (this.takenSlugs.has(slug)) return null;
    this.takenSlugs.add(slug);
    this.log.push(`insert ${slug}`);
    const row = { id: TENANT, name: values.name, slug, personalOwnerId: null, clerkOrgId: values.clerkOrgId };
    this.rows.set(TENANT, row);
    return { ...row, createdAt: new Date('2026-01-01T00:00:00Z') };
  }
  async rename(_uow: UnitOfWork, id: string, name: string) {
    const row = this.rows.get(id)!;
    row.name = name;
    this.log.push(`rename ${name}`);
    return { ...row, createdAt: new Date('2026-01-01T00:00:00Z') };
  }
  async slugTakenByOther(_uow: UnitOfWork, slug: string) {
    return this.takenSlugs.has(slug);
  }
  async setNameAndSlug(_uow: UnitOfWork, id: string, name: string, slug: string) {
    this.rows.set(id, { ...this.rows.get(id)!, name, slug });
    this.log.push(`mirror ${name} ${slug}`);
  }
  async delete(_uow: UnitOfWork, id: string) {
    this.rows.delete(id);
    this.log.push(`delete ${id}`);
  }
  async lockByOrganization(_uow: UnitOfWork, clerkOrgId: string) {
    const row = [...this.rows.values()].find((r) => r.clerkOrgId === clerkOrgId);
    return row ? { ...row, createdAt: new Date() } : null;
  }
}

async function build(opts: { afterCommitFails?: boolean } = {}) {
  const log: string[] = [];
  const tenants = new MockTenants(log);
  const audits: { action: string; tenantId?: string | null; metadata?: Record<string, unknown> }[] = [];
  const published: string[] = [];
  const uow = {} as UnitOfWork;
  const transactions = {
    run: async (work: (u: UnitOfWork) => Promise<unknown>) => {
      const result = await work(uow);
      log.push('commit');
      return result;
    },
  };
  const memberships = {
    forTenant: (tenantId: string) => ({
      insertOwner: async (_uow: UnitOfWork, userId: string) => log.push(`owner ${tenantId} ${userId}`),
      userIds: async () => [OWNER, 'u-other'],
    }),
  };
  const hooks = {
    tenantDeleting: async (e: { uow: UnitOfWork; tenantId: string }) => {
      assert.equal(e.uow, uow, 'the hooks run in the deleting unit of work');
      log.push(`hook ${e.tenantId}`);
      return [
        async () => {
          log.push('after-commit');
          if (opts.afterCommitFails) throw new Error('cache down');
        },
      ];
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      TenantCommands,
      { provide: Transactions, useValue: transactions },
      { provide: TenantRepository, useValue: tenants },
      { provide: MembershipRepository, useValue: memberships },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      { provide: TenantChangeHooks, useValue: hooks },
      {
        provide: InvalidationBus,
        useValue: { publish: async (topic: string, id: string) => published.push(`${topic} ${id}`) },
      },
    ],
  }).compile();
  return { commands: moduleRef.get(TenantCommands), tenants, audits, published, log, uow };
}

function code(expected: string) {
  return (err: unknown) => err instanceof AppError && err.code === expected;
}

function seed(tenants: MockTenants, personalOwnerId: string | null = null) {
  tenants.rows.set(TENANT, { id: TENANT, name: 'Acme', slug: 'acme', personalOwnerId });
  tenants.takenSlugs.add('acme');
}

describe('TenantCommands: create', () => {
  it('inserts the tenant with the caller as owner, audits it and drops the owner’s cached tenant list', async () => {
    const { commands, audits, published, log } = await build();
    const tenant = await commands.create(OWNER, { name: 'Acme Corp' }, scope);
    assert.equal(tenant.slug, 'acme-corp');
    assert.deepEqual(log, ['insert acme-corp', `owner ${TENANT} ${OWNER}`, 'commit']);
    assert.deepEqual(audits, [
      {
        action: 'tenant.created',
        ...scope,
        tenantId: TENANT,
        target: { type: 'tenant', id: TENANT },
        metadata: { name: 'Acme Corp', slug: 'acme-corp' },
      },
    ]);
    assert.deepEqual(published, [`user ${OWNER}`]);
  });

  it('refuses a slug that looks like a tenant id, before any transaction', async () => {
    const { commands, log } = await build();
    await assert.rejects(commands.create(OWNER, { name: 'x', slug: TENANT }, scope), code('invalid_slug'));
    assert.deepEqual(log, []);
  });

  it('an explicit slug in use is slug_taken; a derived one gets a suffix', async () => {
    const { commands, tenants, audits } = await build();
    tenants.takenSlugs.add('acme');
    await assert.rejects(commands.create(OWNER, { name: 'Acme', slug: 'acme' }, scope), code('slug_taken'));
    assert.deepEqual(audits, []);
    const derived = await commands.create(OWNER, { name: 'Acme' }, scope);
    assert.match(derived.slug, /^acme-[0-9a-f]{6}$/);
  });
});

describe('TenantCommands: rename', () => {
  it('renames under the tenant lock and audits from/to', async () => {
    const { commands, tenants, audits, published, log } = await build();
    seed(tenants);
    const renamed = await commands.rename(TENANT, 'Acme 2', scope);
    assert.equal(renamed.name, 'Acme 2');
    assert.deepEqual(log, [`lock ${TENANT}`, 'rename Acme 2', 'commit']);
    assert.deepEqual(audits[0].metadata, { name: { from: 'Acme', to: 'Acme 2' } });
    assert.deepEqual(published, [`tenant ${TENANT}`]);
  });

  it('the same name writes no audit row', async () => {
    const { commands, tenants, audits } = await build();
    seed(tenants);
    await commands.rename(TENANT, 'Acme', scope);
    assert.deepEqual(audits, []);
  });

  it('an unknown tenant is not_found', async () => {
    const { commands, log } = await build();
    await assert.rejects(commands.rename(TENANT, 'x', scope), code('not_found'));
    assert.deepEqual(log, [`lock ${TENANT}`]);
  });
});

describe('TenantCommands: delete', () => {
  it('refuses a personal tenant: no hook, no audit, no delete', async () => {
    const { commands, tenants, audits, log } = await build();
    seed(tenants, OWNER);
    await assert.rejects(commands.delete(TENANT, scope), code('personal_tenant'));
    assert.ok(tenants.rows.has(TENANT));
    assert.deepEqual(audits, []);
    assert.deepEqual(log, [`lock ${TENANT}`]);
  });

  it('runs the hooks in the transaction, audits, deletes, and runs their work after the commit', async () => {
    const { commands, tenants, audits, published, log } = await build();
    seed(tenants);
    await commands.delete(TENANT, scope);
    assert.deepEqual(log, [`lock ${TENANT}`, `hook ${TENANT}`, `delete ${TENANT}`, 'commit', 'after-commit']);
    assert.deepEqual(audits, [
      {
        action: 'tenant.deleted',
        ...scope,
        tenantId: TENANT,
        target: { type: 'tenant', id: TENANT },
        metadata: { name: 'Acme', slug: 'acme' },
      },
    ]);
    assert.deepEqual(published, [`tenant ${TENANT}`]);
  });

  it('a failing after-commit step does not undo or fail the deletion', async () => {
    const { commands, tenants, log } = await build({ afterCommitFails: true });
    seed(tenants);
    await commands.delete(TENANT, scope);
    assert.equal(tenants.rows.has(TENANT), false);
    assert.equal(log.at(-1), 'after-commit');
  });

  it('in the caller’s unit of work (Clerk), returns the former members and the work for after its commit', async () => {
    const { commands, tenants, uow, log } = await build();
    seed(tenants);
    const { memberIds, afterCommit } = await commands.deleteInTransaction(uow, TENANT, scope, { clerk_org_id: 'o' });
    assert.deepEqual(memberIds, [OWNER, 'u-other']);
    assert.equal(afterCommit.length, 1);
    assert.ok(!log.includes('after-commit'), 'the caller runs it after its commit');
  });
});

describe('TenantCommands: Clerk organizations', () => {
  it('mirrors name and slug, keeping the old slug when the wanted one is taken', async () => {
    const { commands, tenants, uow, audits } = await build();
    seed(tenants);
    tenants.takenSlugs.add('taken');
    assert.equal(await commands.mirrorOrganization(uow, TENANT, { name: 'New', slug: 'taken' }, scope, {}), true);
    assert.equal(tenants.rows.get(TENANT)!.slug, 'acme');
    assert.deepEqual(audits[0].metadata, { name: { from: 'Acme', to: 'New' } });
    assert.equal(await commands.mirrorOrganization(uow, TENANT, { name: 'New', slug: 'acme' }, scope, {}), false);
    assert.equal(audits.length, 1);
  });

  it('creates the organization’s tenant once', async () => {
    const { commands, uow, audits } = await build();
    const org = { id: 'org_1', name: 'Org One', slug: 'org-one' };
    const first = await commands.ensureForOrganization(uow, org, scope);
    const second = await commands.ensureForOrganization(uow, org, scope);
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.tenant.id, first.tenant.id);
    assert.equal(audits.length, 1);
  });
});
