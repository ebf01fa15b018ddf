import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { TenantRole } from './roles';
import { Tenant } from './tenant.entity';
import { InsertedTenant, insertTenant, TenantValues } from './tenant-crud/tenant-insert';

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
  async ensurePersonalTenant(
    m: EntityManager,
    user: { id: string; firstName: string | null; email: string | null },
  ): Promise<Tenant> {
    const name = user.firstName
      ? `${user.firstName}'s workspace`
      : user.email
        ? `${user.email}'s workspace`
        : 'Personal workspace';
    const baseSlug = `personal-${user.id.replace(/-/g, '').slice(0, 12)}`;
    const tenant = await this.insertOnce(m, { name, slug: baseSlug, personalOwnerId: user.id }, () =>
      m.findOneBy(Tenant, { personalOwnerId: user.id }),
    );
    await this.upsertMembership(m, tenant.id, user.id, 'owner', false);
    return tenant;
  }

  /** The tenant of a Clerk organization, created on first sight; the user's role follows the claim. */
  async ensureOrganizationTenant(m: EntityManager, org: OrganizationClaim, userId: string): Promise<Tenant> {
    const slug = slugify(org.slug ?? org.id);
    const tenant = await this.insertOnce(m, { name: org.slug ?? org.id, slug, clerkOrgId: org.id }, () =>
      m.findOneBy(Tenant, { clerkOrgId: org.id }),
    );
    await this.upsertMembership(m, tenant.id, userId, roleFromClaim(org.role), true);
    return tenant;
  }

  /** Inserts unless the row already exists (found by `existing`), through the one tenant insertion. */
  private async insertOnce(
    m: EntityManager,
    values: TenantValues,
    existing: () => Promise<Tenant | null>,
  ): Promise<Tenant> {
    await insertTenant(m, values, { existing: async () => toInserted(await existing()) });
    const found = await existing();
    if (!found) throw new Error('Could not create tenant');
    return found;
  }

  /**
   * Creates the membership, or (when `followClaim`) aligns its role with the organization claim.
   * An owner is never demoted by a claim.
   */
  private async upsertMembership(
    m: EntityManager,
    tenantId: string,
    userId: string,
    role: TenantRole,
    followClaim: boolean,
  ): Promise<void> {
    await m.query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
       WHERE $4::boolean AND memberships.role <> 'owner' AND memberships.role <> EXCLUDED.role`,
      [tenantId, userId, role, followClaim],
    );
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
