import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { requireTenantId } from '#libs/common';
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

const SELECT_MEMBER = `SELECT u.id AS "userId", u.email, u.first_name AS "firstName", u.last_name AS "lastName", u.status,
  m.role, m.created_at AS "joinedAt", u.last_login_at AS "lastLoginAt", u.created_at AS "userCreatedAt", m.id AS "membershipId",
  to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "joinedKey"
  FROM memberships m JOIN users u ON u.id = m.user_id`;

/**
 * Memberships of one tenant. Every method takes the tenant id first and refuses an empty one; a user
 * of another tenant is simply not found. Writes take the caller's transaction.
 */
@Injectable()
export class MemberRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  list(tenantId: string, m: EntityManager = this.dataSource.manager): Promise<MemberRow[]> {
    return m.query(`${SELECT_MEMBER} WHERE m.tenant_id = $1 ORDER BY m.created_at, m.id`, [requireTenantId(tenantId)]);
  }

  /** Members in join order after `after`, at most `limit`. */
  page(tenantId: string, after: MemberPosition | null, limit: number): Promise<MemberRow[]> {
    requireTenantId(tenantId);
    return after
      ? this.dataSource.query(
          `${SELECT_MEMBER} WHERE m.tenant_id = $1 AND (m.created_at, m.id) > ($2::timestamptz, $3::uuid) ORDER BY m.created_at, m.id LIMIT $4`,
          [tenantId, after.joinedKey, after.membershipId, limit],
        )
      : this.dataSource.query(`${SELECT_MEMBER} WHERE m.tenant_id = $1 ORDER BY m.created_at, m.id LIMIT $2`, [
          tenantId,
          limit,
        ]);
  }

  async find(tenantId: string, userId: string, m: EntityManager = this.dataSource.manager): Promise<MemberRow | null> {
    const rows: MemberRow[] = await m.query(`${SELECT_MEMBER} WHERE m.tenant_id = $1 AND m.user_id = $2`, [
      requireTenantId(tenantId),
      userId,
    ]);
    return rows[0] ?? null;
  }

  /** The member's role, row-locked for the transaction; null when not a member. */
  async lockRole(m: EntityManager, tenantId: string, userId: string): Promise<TenantRole | null> {
    const rows: { role: TenantRole }[] = await m.query(
      `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE`,
      [requireTenantId(tenantId), userId],
    );
    return rows[0]?.role ?? null;
  }

  async countOwners(m: EntityManager, tenantId: string): Promise<number> {
    const rows: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM memberships WHERE tenant_id = $1 AND role = 'owner'`,
      [requireTenantId(tenantId)],
    );
    return rows[0].n;
  }

  /** False when the user is a member already. */
  async insert(m: EntityManager, tenantId: string, userId: string, role: TenantRole): Promise<boolean> {
    const rows = await m.query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING id`,
      [requireTenantId(tenantId), userId, role],
    );
    return rows.length > 0;
  }

  async setRole(m: EntityManager, tenantId: string, userId: string, role: TenantRole): Promise<void> {
    await m.query(`UPDATE memberships SET role = $3, updated_at = now() WHERE tenant_id = $1 AND user_id = $2`, [
      requireTenantId(tenantId),
      userId,
      role,
    ]);
  }

  async delete(m: EntityManager, tenantId: string, userId: string): Promise<void> {
    await m.query(`DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [requireTenantId(tenantId), userId]);
  }
}
