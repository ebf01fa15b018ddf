import { Injectable } from '@nestjs/common';
import { MembershipRepository, TenantWithRole } from './members/membership.repository';

/** Read-side lookups of a user's tenants and roles (snapshot loads, path-tenant checks). */
@Injectable()
export class MembershipQueries {
  constructor(private readonly memberships: MembershipRepository) {}

  tenantsOf(userId: string): Promise<TenantWithRole[]> {
    return this.memberships.tenantsOf(userId);
  }

  /** The user's membership in the tenant named by id or slug, or null. */
  byIdOrSlug(userId: string, idOrSlug: string): Promise<TenantWithRole | null> {
    return this.memberships.tenantOf(userId, idOrSlug);
  }
}
