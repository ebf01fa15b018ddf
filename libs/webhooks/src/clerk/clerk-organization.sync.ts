import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import { AuditScope } from '#libs/audit';
import { ClerkMembershipData, ClerkOrganizationData, organizationOf, requireClerkOrgId, text } from '#libs/clerk';
import { AppError } from '#libs/common';
import { MembersService, roleFromClaim, TenantCommands } from '#libs/tenants';
import { AppliedChanges } from './clerk-event.types';
import { ClerkUserSync } from './clerk-user.sync';

/**
 * Applies Clerk's organization and membership events to the tenant mirroring the organization
 * (`tenants.clerk_org_id`) and its memberships, through the tenants lib's services (the same rules as
 * every other change: the tenant lock, the last owner, the change hooks), inside the delivery's
 * transaction. Roles follow Clerk (`org:admin` → admin, anything else → member); an owner is never
 * demoted by Clerk, as at login.
 */
@Injectable()
export class ClerkOrganizationSync {
  constructor(
    private readonly tenants: TenantCommands,
    private readonly members: MembersService,
    private readonly users: ClerkUserSync,
  ) {}

  /** organization.created / organization.updated: name and slug as Clerk has them. */
  async upsert(
    uow: UnitOfWork,
    data: ClerkOrganizationData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireClerkOrgId(data.id);
    const { tenant, created } = await this.tenants.ensureForOrganization(uow, organizationOf(data), scope);
    if (created) {
      changes.tenants.add(tenant.id);
      return true;
    }
    const changed = await this.tenants.mirrorOrganization(
      uow,
      tenant.id,
      { name: text(data.name) ?? tenant.name, slug: text(data.slug) ?? tenant.slug },
      scope,
      { clerk_org_id: orgId },
    );
    if (changed) changes.tenants.add(tenant.id);
    return changed;
  }

  /**
   * organization.deleted: the tenant goes, as through `DELETE /api/tenants/{id}`: capabilities on top
   * (API keys) revoke what they hold in this transaction, through the tenant change hooks.
   */
  async delete(
    uow: UnitOfWork,
    data: ClerkOrganizationData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireClerkOrgId(data.id);
    const existing = await this.tenants.byOrganization(uow, orgId);
    if (!existing) return false;
    const { memberIds, afterCommit } = await this.tenants.deleteInTransaction(uow, existing.id, scope, {
      clerk_org_id: orgId,
    });
    changes.tenants.add(existing.id);
    for (const id of memberIds) changes.users.add(id);
    changes.afterCommit.push(...afterCommit);
    return true;
  }

  /** organizationMembership.created / updated: the membership with Clerk's role. */
  async upsertMembership(
    uow: UnitOfWork,
    data: ClerkMembershipData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const org = data.organization;
    if (!org) throw new AppError('invalid_webhook_payload', 'The membership event has no organization');
    const { tenant, created } = await this.tenants.ensureForOrganization(uow, organizationOf(org), scope);
    if (created) changes.tenants.add(tenant.id);
    const user = await this.users.ensureForMembership(uow, data.public_user_data ?? {});
    if (!user) return false;
    const role = roleFromClaim(data.role);
    const changed = await this.members.mirrorMembership(uow, tenant.id, user.id, role, scope, data.role ?? null);
    if (changed) changes.users.add(user.id);
    return changed;
  }

  /** organizationMembership.deleted: the membership goes, and what the member held there (API keys) with it. */
  async deleteMembership(
    uow: UnitOfWork,
    data: ClerkMembershipData,
    scope: AuditScope,
    changes: AppliedChanges,
  ): Promise<boolean> {
    const orgId = requireClerkOrgId(data.organization?.id);
    const clerkUserId = data.public_user_data?.user_id;
    const tenant = await this.tenants.byOrganization(uow, orgId);
    const user = typeof clerkUserId === 'string' ? await this.users.byClerkId(uow, clerkUserId) : null;
    if (!tenant || !user) return false;
    const { removed, afterCommit } = await this.members.mirrorRemoval(uow, tenant.id, user.id, scope);
    if (!removed) return false;
    changes.users.add(user.id);
    changes.afterCommit.push(...afterCommit);
    return true;
  }
}
