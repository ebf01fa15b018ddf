import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AuditService } from '#libs/audit';
import { AppError } from '#libs/common';
import { AuditScope, lockTenant, roleFromClaim, slugify, TenantChangeHooks } from '#libs/tenants';
import { AppliedChanges, ClerkMembershipData, ClerkOrganizationData } from './clerk-event.types';
import { ClerkUserSync } from './clerk-user.sync';

interface OrgTenant {
  id: string;
  name: string;
  slug: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Applies Clerk's organization and membership events to the tenant mirroring the organization
 * (`tenants.clerk_org_id`) and its memberships. Roles follow Clerk (`org:admin` → admin, anything
 * else → member); an owner is never demoted by Clerk, as at login.
 */
@Injectable()
export class ClerkOrganizationSync {
  constructor(
    private readonly audit: AuditService,
    private readonly hooks: TenantChangeHooks,
    private readonly users: ClerkUserSync,
  ) {}

  /** organization.created / organization.updated: name and slug as Clerk has them. */
  async upsert(
    m: EntityManager,
    data: ClerkOrganizationData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireOrgId(data.id);
    const existing = await this.byOrgId(m, orgId);
    if (!existing) {
      await this.create(m, data, scope, changes);
      return true;
    }
    const name = text(data.name) ?? existing.name;
    const wantedSlug = text(data.slug) ? slugify(data.slug!) : existing.slug;
    const slug =
      wantedSlug !== existing.slug && !(await this.slugFree(m, wantedSlug, existing.id)) ? existing.slug : wantedSlug;
    if (name === existing.name && slug === existing.slug) return false;
    await m.query(`UPDATE tenants SET name = $2, slug = $3, updated_at = now() WHERE id = $1`, [
      existing.id,
      name,
      slug,
    ]);
    const metadata: Record<string, unknown> = { clerk_org_id: orgId };
    if (name !== existing.name) metadata.name = { from: existing.name, to: name };
    if (slug !== existing.slug) metadata.slug = { from: existing.slug, to: slug };
    await this.audit.record(
      {
        action: 'tenant.updated',
        ...scope,
        tenantId: existing.id,
        target: { type: 'tenant', id: existing.id },
        metadata,
      },
      m,
    );
    changes.tenants.add(existing.id);
    return true;
  }

  /**
   * organization.deleted: the tenant goes, as through `DELETE /api/tenants/{id}`: capabilities on top
   * (API keys) revoke what they hold in this transaction, through the tenant change hooks.
   */
  async delete(
    m: EntityManager,
    data: ClerkOrganizationData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireOrgId(data.id);
    const existing = await this.byOrgId(m, orgId);
    if (!existing) return false;
    const tenant = await lockTenant(m, existing.id);
    const members: { user_id: string }[] = await m.query(`SELECT user_id FROM memberships WHERE tenant_id = $1`, [
      tenant.id,
    ]);
    const work = await this.hooks.tenantDeleting({ manager: m, tenantId: tenant.id, audit: scope });
    await this.audit.record(
      {
        action: 'tenant.deleted',
        ...scope,
        tenantId: tenant.id,
        target: { type: 'tenant', id: tenant.id },
        metadata: { name: tenant.name, slug: tenant.slug, clerk_org_id: orgId },
      },
      m,
    );
    await m.query(`DELETE FROM tenants WHERE id = $1`, [tenant.id]);
    changes.tenants.add(tenant.id);
    for (const { user_id } of members) changes.users.add(user_id);
    changes.afterCommit.push(...work);
    return true;
  }

  /** organizationMembership.created / updated: the membership with Clerk's role. */
  async upsertMembership(
    m: EntityManager,
    data: ClerkMembershipData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const org = data.organization;
    if (!org) throw new AppError('invalid_webhook_payload', 'The membership event has no organization');
    const tenant = (await this.byOrgId(m, requireOrgId(org.id))) ?? (await this.create(m, org, scope, changes));
    const user = await this.users.ensureForMembership(m, data.public_user_data ?? {});
    if (!user) return false;
    await lockTenant(m, tenant.id);
    const role = roleFromClaim(data.role);
    const current = await this.lockRole(m, tenant.id, user.id);
    if (!current) {
      await m.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)`, [
        tenant.id,
        user.id,
        role,
      ]);
      await this.audit.record(
        {
          action: 'member.added',
          ...scope,
          tenantId: tenant.id,
          target: { type: 'user', id: user.id },
          metadata: { role, clerk_role: data.role ?? null },
        },
        m,
      );
    } else if (current !== role && current !== 'owner') {
      await m.query(`UPDATE memberships SET role = $3, updated_at = now() WHERE tenant_id = $1 AND user_id = $2`, [
        tenant.id,
        user.id,
        role,
      ]);
      await this.audit.record(
        {
          action: 'member.role_changed',
          ...scope,
          tenantId: tenant.id,
          target: { type: 'user', id: user.id },
          metadata: { from: current, to: role },
        },
        m,
      );
    } else {
      return false;
    }
    changes.users.add(user.id);
    return true;
  }

  /** organizationMembership.deleted: the membership goes, and what the member held there (API keys) with it. */
  async deleteMembership(
    m: EntityManager,
    data: ClerkMembershipData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireOrgId(data.organization?.id);
    const clerkUserId = data.public_user_data?.user_id;
    const tenant = await this.byOrgId(m, orgId);
    const user = typeof clerkUserId === 'string' ? await this.users.byClerkId(m, clerkUserId) : null;
    if (!tenant || !user) return false;
    await lockTenant(m, tenant.id);
    const current = await this.lockRole(m, tenant.id, user.id);
    if (!current) return false;
    const work = await this.hooks.memberRemoving({ manager: m, tenantId: tenant.id, userId: user.id, audit: scope });
    await m.query(`DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [tenant.id, user.id]);
    await this.audit.record(
      {
        action: 'member.removed',
        ...scope,
        tenantId: tenant.id,
        target: { type: 'user', id: user.id },
        metadata: { role: current },
      },
      m,
    );
    changes.users.add(user.id);
    changes.afterCommit.push(...work);
    return true;
  }

  private async create(
    m: EntityManager,
    data: ClerkOrganizationData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<OrgTenant> {
    const orgId = requireOrgId(data.id);
    const name = text(data.name) ?? text(data.slug) ?? orgId;
    let base = slugify(text(data.slug) ?? name);
    if (UUID.test(base)) base = `org-${base.slice(0, 40)}`;
    for (let attempt = 0; attempt < 6; attempt++) {
      const slug = attempt === 0 ? base : `${base.slice(0, 41)}-${randomBytes(3).toString('hex')}`;
      // DO NOTHING on either unique index: a taken slug gets a suffix, a concurrent insert of this org wins.
      const rows: OrgTenant[] = await m.query(
        `INSERT INTO tenants (name, slug, clerk_org_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id, name, slug`,
        [name, slug, orgId],
      );
      if (rows[0]) {
        await this.audit.record(
          {
            action: 'tenant.created',
            ...scope,
            tenantId: rows[0].id,
            target: { type: 'tenant', id: rows[0].id },
            metadata: { name, slug, clerk_org_id: orgId },
          },
          m,
        );
        changes.tenants.add(rows[0].id);
        return rows[0];
      }
      const raced = await this.byOrgId(m, orgId);
      if (raced) return raced;
    }
    throw new Error('Could not find a free slug for the organization');
  }

  private async byOrgId(m: EntityManager, orgId: string): Promise<OrgTenant | null> {
    const rows: OrgTenant[] = await m.query(`SELECT id, name, slug FROM tenants WHERE clerk_org_id = $1 FOR UPDATE`, [
      orgId,
    ]);
    return rows[0] ?? null;
  }

  private async slugFree(m: EntityManager, slug: string, exceptId: string): Promise<boolean> {
    if (UUID.test(slug)) return false;
    const rows = await m.query(`SELECT 1 FROM tenants WHERE slug = $1 AND id <> $2`, [slug, exceptId]);
    return rows.length === 0;
  }

  private async lockRole(m: EntityManager, tenantId: string, userId: string): Promise<string | null> {
    const rows: { role: string }[] = await m.query(
      `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE`,
      [tenantId, userId],
    );
    return rows[0]?.role ?? null;
  }
}

function requireOrgId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(value)) {
    throw new AppError('invalid_webhook_payload', 'The event names no valid Clerk organization id');
  }
  return value;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
