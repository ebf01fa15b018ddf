import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CURSOR_AT_SQL, decodeKeyset, isUuid, keysetPage, pageLimit } from '#libs/common';
import { AdminTenantDto, AdminTenantPageDto } from './dto/admin-tenant.response';
import { AdminUserDto, AdminUserPageDto } from './dto/admin-user.response';

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

interface TenantRow {
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

interface UserRow {
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

interface MembershipRow {
  user_id: string;
  id: string;
  name: string;
  slug: string;
  role: string;
}

/** Cross-tenant reads for platform administration and the command line: tenants and users. */
@Injectable()
export class AdminDirectory {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async tenants(opts: PageOptions = {}): Promise<AdminTenantPageDto> {
    const { limit, where, params } = this.keyset('t', opts);
    const rows: TenantRow[] = await this.dataSource.query(
      `SELECT t.id, t.name, t.slug, t.clerk_org_id, t.personal_owner_id, t.created_at, t.updated_at, ${CURSOR_AT_SQL('t.created_at')} AS cursor_at,
              (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS members,
              (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active
         FROM tenants t ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT ${limit + 1}`,
      params,
    );
    return keysetPage(rows, limit, toTenantDto);
  }

  /** A tenant by id or slug, or null. */
  async tenant(idOrSlug: string): Promise<AdminTenantDto | null> {
    const byId = isUuid(idOrSlug);
    const rows: TenantRow[] = await this.dataSource.query(
      `SELECT t.id, t.name, t.slug, t.clerk_org_id, t.personal_owner_id, t.created_at, t.updated_at, '' AS cursor_at,
              (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS members,
              (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND ${ACTIVE_API_KEY_SQL('k')}) AS api_keys_active
         FROM tenants t WHERE ${byId ? 't.id = $1::uuid' : 't.slug = $1'}`,
      [idOrSlug],
    );
    return rows[0] ? toTenantDto(rows[0]) : null;
  }

  /** Users newest first; `email` narrows to that address (case-insensitive); `tenantId` to its members. */
  async users(opts: PageOptions & { email?: string; tenantId?: string } = {}): Promise<AdminUserPageDto> {
    const { limit, where, params } = this.keyset('u', opts);
    const filters = where ? [where.replace(/^WHERE /, '')] : [];
    if (opts.email) filters.push(`lower(u.email) = lower($${params.push(opts.email)})`);
    if (opts.tenantId)
      filters.push(
        `EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = $${params.push(opts.tenantId)}::uuid)`,
      );
    const rows: UserRow[] = await this.dataSource.query(
      `${SELECT_USER} ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''} ORDER BY u.created_at DESC, u.id DESC LIMIT ${limit + 1}`,
      params,
    );
    const result = keysetPage(rows, limit, (r) => toUserDto(r, []));
    await this.attachTenants(result.data);
    return result;
  }

  /** A user by id, Clerk id (`user_…`) or email; null when none or (for an email) several match. */
  async user(ref: string): Promise<AdminUserDto | null> {
    const column = isUuid(ref)
      ? 'u.id = $1::uuid'
      : ref.startsWith('user_')
        ? 'u.clerk_user_id = $1'
        : ref.includes('@')
          ? 'lower(u.email) = lower($1)'
          : null;
    if (!column) return null;
    const rows: UserRow[] = await this.dataSource.query(`${SELECT_USER} WHERE ${column} LIMIT 2`, [ref]);
    if (rows.length !== 1) return null;
    const dto = toUserDto(rows[0], []);
    await this.attachTenants([dto]);
    return dto;
  }

  private async attachTenants(users: AdminUserDto[]): Promise<void> {
    if (users.length === 0) return;
    const rows: MembershipRow[] = await this.dataSource.query(
      `SELECT m.user_id, t.id, t.name, t.slug, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = ANY($1::uuid[]) ORDER BY t.personal_owner_id IS NULL, t.created_at`,
      [users.map((u) => u.id)],
    );
    for (const u of users) {
      u.tenants = rows
        .filter((r) => r.user_id === u.id)
        .map((r) => ({ id: r.id, name: r.name, slug: r.slug, role: r.role }));
    }
  }

  private keyset(alias: string, opts: PageOptions): { limit: number; where: string; params: unknown[] } {
    const limit = pageLimit(opts.limit);
    if (!opts.cursor) return { limit, where: '', params: [] };
    const c = decodeKeyset(opts.cursor);
    return {
      limit,
      where: `WHERE (${alias}.created_at, ${alias}.id) < ($1::timestamptz, $2::uuid)`,
      params: [c.at, c.id],
    };
  }
}

/** A tenant API key usable now (a rotated key's revoked_at may lie in the future). */
export const ACTIVE_API_KEY_SQL = (k: string) =>
  `${k}.is_active AND (${k}.revoked_at IS NULL OR ${k}.revoked_at > now()) AND (${k}.expires_at IS NULL OR ${k}.expires_at > now())`;

const SELECT_USER = `SELECT u.id, u.clerk_user_id, u.email, u.first_name, u.last_name, u.status, u.last_login_at, u.login_count,
    u.created_at, u.updated_at, ${CURSOR_AT_SQL('u.created_at')} AS cursor_at,
    k.status AS key_status, k.label AS key_label, k.upstream_hash AS key_hash, k.spending_limit AS key_limit,
    k.auto_renewed AS key_auto_renewed, k.renewal_count AS key_renewal_count, k.last_renewal_at AS key_last_renewal_at,
    k.last_error_code AS key_last_error_code, k.key_created_at AS key_created_at
  FROM users u LEFT JOIN openrouter_keys k ON k.user_id = u.id`;

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function toTenantDto(r: TenantRow): AdminTenantDto {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    clerk_org_id: r.clerk_org_id,
    personal_owner_id: r.personal_owner_id,
    members: Number(r.members),
    api_keys_active: Number(r.api_keys_active),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

function toUserDto(r: UserRow, tenants: AdminUserDto['tenants']): AdminUserDto {
  return {
    id: r.id,
    clerk_user_id: r.clerk_user_id,
    email: r.email,
    first_name: r.first_name,
    last_name: r.last_name,
    status: r.status,
    openrouter_key: r.key_status
      ? {
          status: r.key_status,
          label: r.key_label,
          hash: r.key_hash,
          limit: r.key_limit === null ? null : Number(r.key_limit),
          auto_renewed: Boolean(r.key_auto_renewed),
          renewal_count: r.key_renewal_count ?? 0,
          last_renewal_at: iso(r.key_last_renewal_at),
          last_error_code: r.key_last_error_code,
          created_at: iso(r.key_created_at),
        }
      : null,
    tenants,
    last_login_at: iso(r.last_login_at),
    login_count: r.login_count,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}
