import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TenantRole } from '#libs/tenants';
import type { ApiKeyScope } from '../scopes';
import type { QuotaPeriod } from '../api-key.entity';
import type { VerifiedKey } from './verified-key';

interface Row {
  id: string;
  tenant_id: string;
  user_id: string | null;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  rate_limit_per_minute: number;
  token_quota: string | null;
  quota_period: QuotaPeriod | null;
  budget_usd: string | null;
  budget_period: QuotaPeriod;
  tenant_budget_usd: string | null;
  tenant_budget_period: QuotaPeriod;
  is_active: boolean;
  expires_at: Date | null;
  revoked_at: Date | null;
  tenant_name: string;
  tenant_slug: string;
  user_email: string | null;
  clerk_user_id: string | null;
  user_status: string | null;
  user_is_member: boolean;
  user_role: TenantRole | null;
}

/**
 * Finds a key by the hash of its plaintext, with its tenant and user, in one indexed query. This is the
 * one read of api_keys not scoped by tenant: the key is what tells which tenant a request is for.
 */
@Injectable()
export class ApiKeyLookup {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async byHash(hash: string): Promise<VerifiedKey | null> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT k.id, k.tenant_id, k.user_id, k.name, k.prefix, k.scopes, k.rate_limit_per_minute, k.token_quota, k.quota_period,
              k.budget_usd, k.budget_period, t.budget_usd AS tenant_budget_usd, t.budget_period AS tenant_budget_period,
              k.is_active, k.expires_at, k.revoked_at, t.name AS tenant_name, t.slug AS tenant_slug,
              u.email AS user_email, u.clerk_user_id, u.status AS user_status, (m.user_id IS NOT NULL) AS user_is_member,
              m.role AS user_role
         FROM api_keys k
         JOIN tenants t ON t.id = k.tenant_id
         LEFT JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.user_id
        WHERE k.key_hash = $1`,
      [hash],
    );
    return rows[0] ? toVerifiedKey(rows[0]) : null;
  }
}

function toVerifiedKey(r: Row): VerifiedKey {
  const expiresAtMs = r.expires_at ? new Date(r.expires_at).getTime() : null;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    isActive: r.is_active,
    expiresAtMs,
    revokedAtMs: r.revoked_at ? new Date(r.revoked_at).getTime() : null,
    tenant: Object.freeze({ id: r.tenant_id, name: r.tenant_name, slug: r.tenant_slug }),
    user: r.user_id ? Object.freeze({ id: r.user_id, clerkUserId: r.clerk_user_id, email: r.user_email }) : null,
    userStatus: r.user_status,
    userIsMember: r.user_id === null || r.user_is_member,
    userRole: r.user_role,
    apiKey: Object.freeze({
      id: r.id,
      tenantId: r.tenant_id,
      name: r.name,
      prefix: r.prefix,
      scopes: Object.freeze([...r.scopes]) as ApiKeyScope[],
      rateLimitPerMinute: r.rate_limit_per_minute,
      userId: r.user_id,
      tokenQuota: r.token_quota === null ? null : Number(r.token_quota),
      quotaPeriod: r.quota_period,
      budgetUsd: r.budget_usd === null ? null : Number(r.budget_usd),
      budgetPeriod: r.budget_period,
      tenantBudgetUsd: r.tenant_budget_usd === null ? null : Number(r.tenant_budget_usd),
      tenantBudgetPeriod: r.tenant_budget_period,
      expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs).toISOString(),
      userRole: r.user_role,
    }),
  };
}
