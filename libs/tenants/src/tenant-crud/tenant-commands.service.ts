import { Injectable, Logger } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { AuditService } from '#libs/audit';
import { AppError, isUuid, requireTenantId } from '#libs/common';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { lockTenant } from '../access/tenant-lock';
import { AfterCommit, TenantChangeHooks } from '../hooks/tenant-change.hooks';
import { MembershipRepository } from '../members/membership.repository';
import { slugify } from '../tenant-mapping.service';
import { InsertedTenant, LockedTenant, TenantRepository } from '../tenant.repository';
import { insertTenant } from './tenant-insert';
import type { TenantView } from './tenant.mapper';

/** Creating, renaming and deleting tenants, each audited in its own transaction. */
@Injectable()
export class TenantCommands {
  private readonly logger = new Logger(TenantCommands.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly tenants: TenantRepository,
    private readonly memberships: MembershipRepository,
    private readonly audit: AuditService,
    private readonly hooks: TenantChangeHooks,
    private readonly bus: InvalidationBus,
  ) {}

  /** A new tenant with the caller as its owner. An explicit slug already in use is a 409 `slug_taken`. */
  async create(ownerId: string, input: { name: string; slug?: string }, scope: AuditScope): Promise<TenantView> {
    if (input.slug && isUuid(input.slug))
      throw new AppError('invalid_slug', 'A slug must not look like a tenant id', { fields: ['slug'] });
    const created = await this.transactions.run(async (uow) => {
      const tenant = await insertTenant(
        this.tenants,
        uow,
        { name: input.name, slug: input.slug ?? slugify(input.name) },
        { explicit: input.slug !== undefined },
      );
      await this.memberships.forTenant(tenant.id).insertOwner(uow, ownerId);
      await this.audit.record(
        {
          action: 'tenant.created',
          ...scope,
          tenantId: tenant.id,
          target: { type: 'tenant', id: tenant.id },
          metadata: { name: tenant.name, slug: tenant.slug },
        },
        uow,
      );
      return tenant;
    });
    await this.bus.publish(CacheTopic.user, ownerId); // the owner's cached tenant list
    return created;
  }

  async rename(tenantId: string, name: string, scope: AuditScope): Promise<TenantView> {
    requireTenantId(tenantId);
    const tenant = await this.transactions.run(async (uow) => {
      const before = await lockTenant(this.tenants, uow, tenantId);
      const updated = await this.tenants.rename(uow, tenantId, name);
      if (before.name !== name) {
        await this.audit.record(
          {
            action: 'tenant.updated',
            ...scope,
            tenantId,
            target: { type: 'tenant', id: tenantId },
            metadata: { name: { from: before.name, to: name } },
          },
          uow,
        );
      }
      return updated;
    });
    await this.bus.publish(CacheTopic.tenant, tenantId); // cached contexts carry the tenant's name
    return tenant;
  }

  /**
   * Deletes the tenant with its memberships; capabilities on top (API keys) revoke what they hold in the
   * same transaction. A personal tenant cannot be deleted: it is the user's fallback workspace and would
   * only come back at the next login.
   */
  async delete(tenantId: string, scope: AuditScope): Promise<void> {
    requireTenantId(tenantId);
    const after = await this.transactions.run(async (uow) => {
      const tenant = await lockTenant(this.tenants, uow, tenantId);
      if (tenant.personalOwnerId) throw new AppError('personal_tenant', 'A personal tenant cannot be deleted');
      return (await this.deleteLocked(uow, tenant, scope, {})).afterCommit;
    });
    await this.bus.publish(CacheTopic.tenant, tenantId);
    await this.afterCommit(() => TenantChangeHooks.runAll(after));
  }

  /**
   * A Clerk organization's tenant, created on first sight in the caller's transaction (a webhook
   * delivery), or the one that exists. `created` tells whether this call inserted it.
   */
  async ensureForOrganization(
    uow: UnitOfWork,
    org: { id: string; name: string; slug: string | null },
    scope: AuditScope,
  ): Promise<{ tenant: InsertedTenant; created: boolean }> {
    const existing = () => this.byOrganization(uow, org.id);
    const found = await existing();
    if (found) return { tenant: found, created: false };
    let base = slugify(org.slug ?? org.name);
    if (isUuid(base)) base = `org-${base.slice(0, 40)}`;
    const tenant = await insertTenant(
      this.tenants,
      uow,
      { name: org.name, slug: base, clerkOrgId: org.id },
      { existing },
    );
    await this.audit.record(
      {
        action: 'tenant.created',
        ...scope,
        tenantId: tenant.id,
        target: { type: 'tenant', id: tenant.id },
        metadata: { name: tenant.name, slug: tenant.slug, clerk_org_id: org.id },
      },
      uow,
    );
    return { tenant, created: true };
  }

  /** The tenant mirroring a Clerk organization, row-locked for the caller's transaction. */
  byOrganization(uow: UnitOfWork, clerkOrgId: string): Promise<InsertedTenant | null> {
    return this.tenants.lockByOrganization(uow, clerkOrgId);
  }

  /**
   * Clerk deleted the organization: its tenant goes in the caller's transaction, as through
   * `DELETE /api/tenants/{id}`. Returns the former members (their cached tenant lists change) and the
   * work to run after the caller's commit.
   */
  async deleteInTransaction(
    uow: UnitOfWork,
    tenantId: string,
    scope: AuditScope,
    metadata: Record<string, unknown>,
  ): Promise<{ memberIds: string[]; afterCommit: AfterCommit[] }> {
    const tenant = await lockTenant(this.tenants, uow, tenantId);
    return this.deleteLocked(uow, tenant, scope, metadata);
  }

  /**
   * Renames (and re-slugs) in the caller's transaction, as Clerk has the organization; a wanted slug
   * already in use is not taken (the old one stays). Returns whether anything changed.
   */
  async mirrorOrganization(
    uow: UnitOfWork,
    tenantId: string,
    wanted: { name: string; slug: string },
    scope: AuditScope,
    metadata: Record<string, unknown>,
  ): Promise<boolean> {
    const before = await lockTenant(this.tenants, uow, tenantId);
    let slug = slugify(wanted.slug);
    if (slug !== before.slug) {
      const taken = isUuid(slug) || (await this.tenants.slugTakenByOther(uow, slug, tenantId));
      if (taken) slug = before.slug;
    }
    if (wanted.name === before.name && slug === before.slug) return false;
    await this.tenants.setNameAndSlug(uow, tenantId, wanted.name, slug);
    const changes: Record<string, unknown> = { ...metadata };
    if (wanted.name !== before.name) changes.name = { from: before.name, to: wanted.name };
    if (slug !== before.slug) changes.slug = { from: before.slug, to: slug };
    await this.audit.record(
      { action: 'tenant.updated', ...scope, tenantId, target: { type: 'tenant', id: tenantId }, metadata: changes },
      uow,
    );
    return true;
  }

  private async deleteLocked(
    uow: UnitOfWork,
    tenant: LockedTenant,
    scope: AuditScope,
    metadata: Record<string, unknown>,
  ): Promise<{ memberIds: string[]; afterCommit: AfterCommit[] }> {
    const memberIds = await this.memberships.forTenant(tenant.id).userIds(uow);
    const work = await this.hooks.tenantDeleting({ uow, tenantId: tenant.id, audit: scope });
    await this.audit.record(
      {
        action: 'tenant.deleted',
        ...scope,
        tenantId: tenant.id,
        target: { type: 'tenant', id: tenant.id },
        metadata: { name: tenant.name, slug: tenant.slug, ...metadata },
      },
      uow,
    );
    await this.tenants.delete(uow, tenant.id);
    return { memberIds, afterCommit: work };
  }

  private async afterCommit(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.logger.error({ err }, 'After-commit work of a tenant change failed');
    }
  }
}
