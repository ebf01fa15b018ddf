import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { TenantRole } from '#libs/common';
import { Tenant } from './tenant.entity';

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

  /**
   * Inserts unless the row already exists (found by `existing`). A slug taken by an unrelated
   * tenant gets a random suffix.
   */
  private async insertOnce(
    m: EntityManager,
    values: Partial<Tenant> & { slug: string },
    existing: () => Promise<Tenant | null>,
  ): Promise<Tenant> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await existing();
      if (found) return found;
      const slug = attempt === 0 ? values.slug : `${values.slug}-${randomBytes(3).toString('hex')}`;
      await m
        .createQueryBuilder()
        .insert()
        .into(Tenant)
        .values({ ...values, slug })
        .orIgnore()
        .execute();
    }
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
