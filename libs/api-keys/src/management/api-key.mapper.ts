import type { ApiKey } from '../api-key.entity';
import { statusOf } from '../api-key-state';
import type { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key.response';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const ms = (d: Date | null) => (d ? new Date(d).getTime() : null);

/** What the counters say about a key: tokens in its quota period, USD in its budget period. */
export interface KeyUsage {
  tokensUsed: number;
  spentUsd: number;
}

export const NO_USAGE: KeyUsage = { tokensUsed: 0, spentUsd: 0 };

/** Lists every field on purpose; the hash never leaves the service. */
export function toApiKeyResponse(k: ApiKey, usage: KeyUsage): ApiKeyResponseDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: [...k.scopes],
    rate_limit_per_minute: k.rateLimitPerMinute,
    token_quota: k.tokenQuota,
    quota_period: k.quotaPeriod,
    tokens_used: usage.tokensUsed,
    budget_usd: k.budgetUsd,
    budget_period: k.budgetPeriod,
    spent_usd: usage.spentUsd,
    is_active: k.isActive,
    expires_at: iso(k.expiresAt),
    user_id: k.userId,
    created_at: iso(k.createdAt)!,
    last_used_at: iso(k.lastUsedAt),
    status: statusOf({ isActive: k.isActive, expiresAtMs: ms(k.expiresAt), revokedAtMs: ms(k.revokedAt) }),
    revoked_at: iso(k.revokedAt),
    rotated_from_id: k.rotatedFromId,
    updated_at: iso(k.updatedAt)!,
  };
}

/** The one response that carries the plaintext (create and rotate). */
export function toCreatedApiKeyResponse(k: ApiKey, usage: KeyUsage, plaintext: string): CreatedApiKeyResponseDto {
  return { ...toApiKeyResponse(k, usage), key: plaintext };
}
