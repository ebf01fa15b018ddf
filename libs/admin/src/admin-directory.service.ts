import { Injectable } from '@nestjs/common';
import { decodeKeyset, isUuid, KeysetPosition, keysetPage, pageLimit } from '#libs/common';
import { AdminTenantDto, AdminTenantPageDto } from './dto/admin-tenant.response';
import { AdminUserDto, AdminUserPageDto } from './dto/admin-user.response';
import {
  DirectoryTenantRow,
  DirectoryUserRef,
  DirectoryUserRow,
  PlatformDirectoryRepository,
} from './read-model/platform-directory.repository';

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

/** Cross-tenant reads for platform administration and the command line: tenants and users. */
@Injectable()
export class AdminDirectory {
  constructor(private readonly directory: PlatformDirectoryRepository) {}

  async tenants(opts: PageOptions = {}): Promise<AdminTenantPageDto> {
    const limit = pageLimit(opts.limit);
    const rows = await this.directory.tenantsPage(position(opts), limit + 1);
    return keysetPage(rows, limit, toTenantDto);
  }

  /** A tenant by id or slug, or null. */
  async tenant(idOrSlug: string): Promise<AdminTenantDto | null> {
    const row = await this.directory.tenant(isUuid(idOrSlug) ? { id: idOrSlug } : { slug: idOrSlug });
    return row ? toTenantDto(row) : null;
  }

  /** Users newest first; `email` narrows to that address (case-insensitive); `tenantId` to its members. */
  async users(opts: PageOptions & { email?: string; tenantId?: string } = {}): Promise<AdminUserPageDto> {
    const limit = pageLimit(opts.limit);
    const rows = await this.directory.usersPage(
      { email: opts.email, tenantId: opts.tenantId },
      position(opts),
      limit + 1,
    );
    const result = keysetPage(rows, limit, (r) => toUserDto(r, []));
    await this.attachTenants(result.data);
    return result;
  }

  /** A user by id, Clerk id (`user_…`) or email; null when none or (for an email) several match. */
  async user(ref: string): Promise<AdminUserDto | null> {
    const by = userRef(ref);
    if (!by) return null;
    const rows = await this.directory.usersNamed(by);
    if (rows.length !== 1) return null;
    const dto = toUserDto(rows[0], []);
    await this.attachTenants([dto]);
    return dto;
  }

  private async attachTenants(users: AdminUserDto[]): Promise<void> {
    if (users.length === 0) return;
    const rows = await this.directory.tenantsOfUsers(users.map((u) => u.id));
    for (const u of users) {
      u.tenants = rows
        .filter((r) => r.user_id === u.id)
        .map((r) => ({ id: r.id, name: r.name, slug: r.slug, role: r.role }));
    }
  }
}

/** The page's starting point: after the cursor's row, or the newest when there is no cursor. */
function position(opts: PageOptions): KeysetPosition | null {
  return opts.cursor ? decodeKeyset(opts.cursor) : null;
}

function userRef(ref: string): DirectoryUserRef | null {
  if (isUuid(ref)) return { id: ref };
  if (ref.startsWith('user_')) return { clerkUserId: ref };
  if (ref.includes('@')) return { email: ref };
  return null;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function toTenantDto(r: DirectoryTenantRow): AdminTenantDto {
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

function toUserDto(r: DirectoryUserRow, tenants: AdminUserDto['tenants']): AdminUserDto {
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
