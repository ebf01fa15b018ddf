import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isUuid } from '#libs/common';
import { TableRepository, TenantScope, type UnitOfWork } from '#libs/database';
import type { TenantRole } from '../roles';

export interface MemberRow {
  userId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  status: 'active' | 'pending' | 'deactivated';
  role: TenantRole;
  joinedAt: Date;
  lastLoginAt: Date | null;
  userCreatedAt: Date;
  membershipId: string;
  /** `joinedAt` at full (microsecond) precision, for cursors. */
  joinedKey: string;
}

export interface MemberPosition {
  joinedKey: string;
  membershipId: string;
}

export interface TenantWithRole {
  id: string;
  name: string;
  slug: string;
  role: TenantRole;
  createdAt: Date;
  clerkOrgId: string | null;
  personalOwnerId: string | null;
}

/**
 * Cross-table read of `users` (owned by libs/users, which sits above tenants and cannot be called from here): a
 * member is shown with the user's email, name and status. Read only; every use appends `WHERE m.tenant_id = $1`.
 */
const SELECT_MEMBER = `SELECT u.id AS "userId", u.email, u.first_name AS "firstName", u.last_name AS "lastName", u.status,
  m.role, m.created_at AS "joinedAt", u.last_login_at AS "lastLoginAt", u.created_at AS "userCreatedAt", m.id AS "membershipId",
  to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "joinedKey"
  FROM memberships m JOIN users u ON u.id = m.user_id`;

const SELECT_TENANT_WITH_ROLE = `SELECT t.id, t.name, t.slug, m.role, t.created_at AS "createdAt", t.clerk_org_id AS "clerkOrgId",
  t.personal_owner_id AS "personalOwnerId" FROM memberships m JOIN tenants t ON t.id = m.tenant_id`;

/**
 * The `memberships` table. A tenant's members are reached through `forTenant(tenantId)`, whose every statement
 * names that tenant: a user of another tenant is simply not found. A user's own tenants (across tenants, scoped
 * by the user) are the two named reads on the repository itself.
 */
@Injectable()
export class MembershipRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  forTenant(tenantId: string): TenantMemberships {
    return new TenantMemberships(TenantScope.of(tenantId), (uow) => this.manager(uow));
  }

  /** Cross-tenant: a signed-in user's own tenants with their role in each (scoped by the user), personal first. */
  tenantsOf(userId: string, uow?: UnitOfWork): Promise<TenantWithRole[]> {
    return this.manager(uow).query(
      `${SELECT_TENANT_WITH_ROLE} WHERE m.user_id = $1 ORDER BY t.personal_owner_id IS NULL, t.created_at`,
      [userId],
    );
  }

  /** Cross-tenant: the user's membership in the tenant named by id or slug (scoped by the user), or null. */
  async tenantOf(userId: string, idOrSlug: string, uow?: UnitOfWork): Promise<TenantWithRole | null> {
    const byId = isUuid(idOrSlug);
    const rows: TenantWithRole[] = await this.manager(uow).query(
      `${SELECT_TENANT_WITH_ROLE} WHERE m.user_id = $1 AND ${byId ? 't.id = $2::uuid' : 't.slug = $2'}`,
      [userId, idOrSlug],
    );
    return rows[0] ?? null;
  }
}

/** One tenant's memberships: every statement names the scope's tenant (`$1`). */
export class TenantMemberships {
  constructor(
    private readonly scope: TenantScope,
    private readonly manager: (uow?: UnitOfWork) => EntityManager,
  ) {}

  get tenantId(): string {
    return this.scope.tenantId;
  }

  list(uow?: UnitOfWork): Promise<MemberRow[]> {
    return this.manager(uow).query(`${SELECT_MEMBER} WHERE m.tenant_id = $1 ORDER BY m.created_at, m.id`, [
      this.scope.tenantId,
    ]);
  }

  /** Members in join order after `after`, at most `limit`. */
  page(after: MemberPosition | null, limit: number, uow?: UnitOfWork): Promise<MemberRow[]> {
    return after
      ? this.manager(uow).query(
          `${SELECT_MEMBER} WHERE m.tenant_id = $1 AND (m.created_at, m.id) > ($2::timestamptz, $3::uuid) ORDER BY m.created_at, m.id LIMIT $4`,
          [this.scope.tenantId, after.joinedKey, after.membershipId, limit],
        )
      : this.manager(uow).query(`${SELECT_MEMBER} WHERE m.tenant_id = $1 ORDER BY m.created_at, m.id LIMIT $2`, [
          this.scope.tenantId,
          limit,
        ]);
  }

  async find(userId: string, uow?: UnitOfWork): Promise<MemberRow | null> {
    const rows: MemberRow[] = await this.manager(uow).query(
      `${SELECT_MEMBER} WHERE m.tenant_id = $1 AND m.user_id = $2`,
      [this.scope.tenantId, userId],
    );
    return rows[0] ?? null;
  }

  /** Every member's user id. */
  async userIds(uow?: UnitOfWork): Promise<string[]> {
    const rows: { user_id: string }[] = await this.manager(uow).query(
      `SELECT user_id FROM memberships WHERE tenant_id = $1`,
      [this.scope.tenantId],
    );
    return rows.map((r) => r.user_id);
  }

  /** The member's role, row-locked for the transaction; null when not a member. */
  async lockRole(uow: UnitOfWork, userId: string): Promise<TenantRole | null> {
    const rows: { role: TenantRole }[] = await this.manager(uow).query(
      `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE`,
      [this.scope.tenantId, userId],
    );
    return rows[0]?.role ?? null;
  }

  async countOwners(uow?: UnitOfWork): Promise<number> {
    const rows: { n: number }[] = await this.manager(uow).query(
      `SELECT count(*)::int AS n FROM memberships WHERE tenant_id = $1 AND role = 'owner'`,
      [this.scope.tenantId],
    );
    return rows[0].n;
  }

  /** False when the user is a member already. */
  async insert(uow: UnitOfWork, userId: string, role: TenantRole): Promise<boolean> {
    const rows: unknown[] = await this.manager(uow).query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING id`,
      [this.scope.tenantId, userId, role],
    );
    return rows.length > 0;
  }

  /** The first owner of a tenant just created (no membership can exist yet). */
  async insertOwner(uow: UnitOfWork, userId: string): Promise<void> {
    await this.manager(uow).query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, [
      this.scope.tenantId,
      userId,
    ]);
  }

  /**
   * Creates the membership, or (when `followClaim`) aligns its role with the organization claim. An owner is
   * never demoted by a claim. Idempotent, so that concurrent logins of one user converge.
   */
  async upsertFromClaim(uow: UnitOfWork, userId: string, role: TenantRole, followClaim: boolean): Promise<void> {
    await this.manager(uow).query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
       WHERE $4::boolean AND memberships.role <> 'owner' AND memberships.role <> EXCLUDED.role`,
      [this.scope.tenantId, userId, role, followClaim],
    );
  }

  async setRole(uow: UnitOfWork, userId: string, role: TenantRole): Promise<void> {
    await this.manager(uow).query(
      `UPDATE memberships SET role = $3, updated_at = now() WHERE tenant_id = $1 AND user_id = $2`,
      [this.scope.tenantId, userId, role],
    );
  }

  async delete(uow: UnitOfWork, userId: string): Promise<void> {
    await this.manager(uow).query(`DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [
      this.scope.tenantId,
      userId,
    ]);
  }
}
