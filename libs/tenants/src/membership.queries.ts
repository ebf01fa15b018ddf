import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid } from '#libs/common';
import type { TenantRole } from './roles';

export interface TenantWithRole {
  id: string;
  name: string;
  slug: string;
  role: TenantRole;
  createdAt: Date;
  clerkOrgId: string | null;
  personalOwnerId: string | null;
}

const SELECT_TENANT_WITH_ROLE = `SELECT t.id, t.name, t.slug, m.role, t.created_at AS "createdAt", t.clerk_org_id AS "clerkOrgId",
  t.personal_owner_id AS "personalOwnerId" FROM memberships m JOIN tenants t ON t.id = m.tenant_id`;

/** Read-side lookups of a user's tenants and roles (snapshot loads, path-tenant checks). */
@Injectable()
export class MembershipQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  tenantsOf(userId: string): Promise<TenantWithRole[]> {
    return this.dataSource.query(
      `${SELECT_TENANT_WITH_ROLE} WHERE m.user_id = $1 ORDER BY t.personal_owner_id IS NULL, t.created_at`,
      [userId],
    );
  }

  /** The user's membership in the tenant named by id or slug, or null. */
  async byIdOrSlug(userId: string, idOrSlug: string): Promise<TenantWithRole | null> {
    const byId = isUuid(idOrSlug);
    const rows = await this.dataSource.query(
      `${SELECT_TENANT_WITH_ROLE} WHERE m.user_id = $1 AND ${byId ? 't.id = $2::uuid' : 't.slug = $2'}`,
      [userId, idOrSlug],
    );
    return rows[0] ?? null;
  }
}
