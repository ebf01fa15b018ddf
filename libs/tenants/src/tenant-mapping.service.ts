import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import { MembershipRepository } from './members/membership.repository';
import type { TenantRole } from './roles';
import { Tenant } from './tenant.entity';
import { insertTenant } from './tenant-crud/tenant-insert';
import { InsertedTenant, TenantRepository, TenantValues } from './tenant.repository';

export interface OrganizationClaim {
  id: string;
  slug: string | null;
  role: string | null;
}

/**
 * Login-time tenant bookkeeping: the user's personal tenant and the tenant mirroring their Clerk
 * organization, with the memberships that go with them. Every statement is idempotent, so that many
 * concurrent logins of one user converge on the same rows.
 */
@Injectable()
export class TenantMappingService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly memberships: MembershipRepository,
  ) {}

  async ensurePersonalTenant(
    uow: UnitOfWork,
    user: { id: string; firstName: string | null; email: string | null },
  ): Promise<Tenant> {
    const name = user.firstName
      ? `${user.firstName}'s workspace`
      : user.email
        ? `${user.email}'s workspace`
        : 'Personal workspace';
    const baseSlug = `personal-${user.id.replace(/-/g, '').slice(0, 12)}`;
    const tenant = await this.insertOnce(uow, { name, slug: baseSlug, personalOwnerId: user.id }, () =>
      this.tenants.byPersonalOwner(user.id, uow),
    );
    await this.memberships.forTenant(tenant.id).upsertFromClaim(uow, user.id, 'owner', false);
    return tenant;
  }

  /** The tenant of a Clerk organization, created on first sight; the user's role follows the claim. */
  async ensureOrganizationTenant(uow: UnitOfWork, org: OrganizationClaim, userId: string): Promise<Tenant> {
    const slug = slugify(org.slug ?? org.id);
    const tenant = await this.insertOnce(uow, { name: org.slug ?? org.id, slug, clerkOrgId: org.id }, () =>
      this.tenants.byOrganization(org.id, uow),
    );
    await this.memberships.forTenant(tenant.id).upsertFromClaim(uow, userId, roleFromClaim(org.role), true);
    return tenant;
  }

  /** Inserts unless the row already exists (found by `existing`), through the one tenant insertion. */
  private async insertOnce(
    uow: UnitOfWork,
    values: TenantValues,
    existing: () => Promise<Tenant | null>,
  ): Promise<Tenant> {
    await insertTenant(this.tenants, uow, values, { existing: async () => toInserted(await existing()) });
    const found = await existing();
    if (!found) throw new Error('Could not create tenant');
    return found;
  }
}

function toInserted(t: Tenant | null): InsertedTenant | null {
  return t
    ? { id: t.id, name: t.name, slug: t.slug, createdAt: t.createdAt, personalOwnerId: t.personalOwnerId }
    : null;
}

export function roleFromClaim(role: string | null | undefined): TenantRole {
  return role === 'org:admin' || role === 'admin' ? 'admin' : 'member';
}

export function slugify(input: string): string {
  const slug = input
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'tenant';
}
