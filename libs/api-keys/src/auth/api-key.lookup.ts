import { Injectable } from '@nestjs/common';
import { ApiKeyRepository, type KeyByHashRow } from '../api-key.repository';
import type { ApiKeyScope } from '../scopes';
import type { VerifiedKey } from './verified-key';

/**
 * Finds a key by the hash of its plaintext, with its tenant and user, in one indexed query (see
 * ApiKeyRepository.byHash: the one read of api_keys not scoped by tenant, as the key tells the tenant).
 */
@Injectable()
export class ApiKeyLookup {
  constructor(private readonly keys: ApiKeyRepository) {}

  async byHash(hash: string): Promise<VerifiedKey | null> {
    const row = await this.keys.byHash(hash);
    return row ? toVerifiedKey(row) : null;
  }
}

function toVerifiedKey(r: KeyByHashRow): VerifiedKey {
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
