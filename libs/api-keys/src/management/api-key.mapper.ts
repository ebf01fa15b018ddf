import type { ApiKey } from '../api-key.entity';
import { statusOf } from '../api-key-state';
import type { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key.response';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const ms = (d: Date | null) => (d ? new Date(d).getTime() : null);

/** Lists every field on purpose; the hash never leaves the service. */
export function toApiKeyResponse(k: ApiKey, tokensUsed: number): ApiKeyResponseDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: [...k.scopes],
    rate_limit_per_minute: k.rateLimitPerMinute,
    token_quota: k.tokenQuota,
    quota_period: k.quotaPeriod,
    tokens_used: tokensUsed,
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
export function toCreatedApiKeyResponse(k: ApiKey, tokensUsed: number, plaintext: string): CreatedApiKeyResponseDto {
  return { ...toApiKeyResponse(k, tokensUsed), key: plaintext };
}
