/**
 * The admin read model of the directory: tenants and users across every tenant, for platform administration and the
 * command line. It reads tables other libs own and writes none of them:
 * - tenants, memberships (libs/tenants): the tenants, their member counts, each user's tenants and roles;
 * - api_keys (libs/api-keys): each tenant's count of keys usable now;
 * - users (libs/users) with openrouter_keys (libs/openrouter): a user and the state of their OpenRouter key.
 * One query joins what an admin page shows, instead of a call per row to each owner.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CURSOR_AT_SQL, KeysetPosition } from '#libs/common';
import { TableRepository, UnitOfWork } from '#libs/database';
import { ACTIVE_API_KEY_SQL } from './active-api-key.sql';

export interface DirectoryTenantRow {
  id: string;
  name: string;
  slug: string;
  clerk_org_id: string | null;
  personal_owner_id: string | null;
  members: string | number;
  api_keys_active: string | number;
  created_at: Date;
  updated_at: Date;
  cursor_at: string;
}

export interface DirectoryUserRow {
  id: string;
  clerk_user_id: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  status: string;
  last_login_at: Date | null;
  login_count: number;
  created_at: Date;
  updated_at: Date;
  cursor_at: string;
  key_status: string | null;
  key_label: string | null;
  key_hash: string | null;
  key_limit: string | number | null;
  key_auto_renewed: boolean | null;
  key_renewal_count: number | null;
  key_last_renewal_at: Date | null;
  key_last_error_code: string | null;
  key_created_at: Date | null;
}

export interface DirectoryMembershipRow {
  user_id: string;
  id: string;
  name: string;
  slug: string;
  role: string;
}

/** Narrows the users listed: `email` to that address (case-insensitive), `tenantId` to that tenant's members. */
export interface DirectoryUserFilter {
  email?: string;
  tenantId?: string;
}

/** How a single user is named: by id, by Clerk id, or by email (case-insensitive). */
export type DirectoryUserRef = { id: string } | { clerkUserId: string } | { email: string };

const SELECT_TENANT = (
  cursorAt: string,
) => `SELECT t.id, t.name, t.slug, t.clerk_org_id, t.personal_owner_id, t.created_at, t.updated_at, ${cursorAt} AS cursor_at,
              (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS members,
              (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active
         FROM tenants t`;

const SELECT_USER = `SELECT u.id, u.clerk_user_id, u.email, u.first_name, u.last_name, u.status, u.last_login_at, u.login_count,
    u.created_at, u.updated_at, ${CURSOR_AT_SQL('u.created_at')} AS cursor_at,
    k.status AS key_status, k.label AS key_label, k.upstream_hash AS key_hash, k.spending_limit AS key_limit,
    k.auto_renewed AS key_auto_renewed, k.renewal_count AS key_renewal_count, k.last_renewal_at AS key_last_renewal_at,
    k.last_error_code AS key_last_error_code, k.key_created_at AS key_created_at
  FROM users u LEFT JOIN openrouter_keys k ON k.user_id = u.id`;

@Injectable()
export class PlatformDirectoryRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /**
   * Cross-tenant: every tenant, newest first, after `after`, at most `take`, with member and active key counts
   * (the platform's tenant list).
   */
  tenantsPage(after: KeysetPosition | null, take: number, uow?: UnitOfWork): Promise<DirectoryTenantRow[]> {
    const where = after ? `WHERE (t.created_at, t.id) < ($1::timestamptz, $2::uuid)` : '';
    return this.manager(uow).query(
      `${SELECT_TENANT(CURSOR_AT_SQL('t.created_at'))} ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT ${take}`,
      after ? [after.at, after.id] : [],
    );
  }

  /** Cross-tenant: a tenant found by id or slug, whichever tenant it is (the admin and the command line name it). */
  async tenant(by: { id: string } | { slug: string }, uow?: UnitOfWork): Promise<DirectoryTenantRow | null> {
    const rows: DirectoryTenantRow[] = await this.manager(uow).query(
      `${SELECT_TENANT(`''`)} WHERE ${'id' in by ? 't.id = $1::uuid' : 't.slug = $1'}`,
      ['id' in by ? by.id : by.slug],
    );
    return rows[0] ?? null;
  }

  /** Cross-tenant: users of every tenant (or of `filter.tenantId`), newest first, after `after`, at most `take`. */
  usersPage(
    filter: DirectoryUserFilter,
    after: KeysetPosition | null,
    take: number,
    uow?: UnitOfWork,
  ): Promise<DirectoryUserRow[]> {
    const params: unknown[] = [];
    const filters: string[] = [];
    if (after)
      filters.push(`(u.created_at, u.id) < ($${params.push(after.at)}::timestamptz, $${params.push(after.id)}::uuid)`);
    if (filter.email) filters.push(`lower(u.email) = lower($${params.push(filter.email)})`);
    if (filter.tenantId)
      filters.push(
        `EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = $${params.push(filter.tenantId)}::uuid)`,
      );
    return this.manager(uow).query(
      `${SELECT_USER} ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''} ORDER BY u.created_at DESC, u.id DESC LIMIT ${take}`,
      params,
    );
  }

  /** Cross-tenant: the users (at most two, to tell one from several) that `ref` names, whatever their tenants. */
  usersNamed(ref: DirectoryUserRef, uow?: UnitOfWork): Promise<DirectoryUserRow[]> {
    const [column, value] =
      'id' in ref
        ? ['u.id = $1::uuid', ref.id]
        : 'clerkUserId' in ref
          ? ['u.clerk_user_id = $1', ref.clerkUserId]
          : ['lower(u.email) = lower($1)', ref.email];
    return this.manager(uow).query(`${SELECT_USER} WHERE ${column} LIMIT 2`, [value]);
  }

  /**
   * Cross-tenant: the tenants of these users with their roles, personal tenant first then oldest first (a user's
   * tenants, as the admin sees them).
   */
  tenantsOfUsers(userIds: string[], uow?: UnitOfWork): Promise<DirectoryMembershipRow[]> {
    return this.manager(uow).query(
      `SELECT m.user_id, t.id, t.name, t.slug, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = ANY($1::uuid[]) ORDER BY t.personal_owner_id IS NULL, t.created_at`,
      [userIds],
    );
  }
}
