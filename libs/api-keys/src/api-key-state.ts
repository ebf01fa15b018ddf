import { AppError } from '#libs/common';

/** What a key can do right now, from its row (or cached copy) and the clock. */
export type ApiKeyStatus = 'active' | 'rotating' | 'disabled' | 'expired' | 'revoked';

export interface ApiKeyTimes {
  isActive: boolean;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

export function statusOf(k: ApiKeyTimes, now = Date.now()): ApiKeyStatus {
  if (k.revokedAtMs !== null && k.revokedAtMs <= now) return 'revoked';
  if (k.expiresAtMs !== null && k.expiresAtMs <= now) return 'expired';
  if (!k.isActive) return 'disabled';
  return k.revokedAtMs !== null ? 'rotating' : 'active';
}

/** The contract's refusal for a key that cannot be used, or null when it can. */
export function refusalFor(status: ApiKeyStatus): AppError | null {
  switch (status) {
    case 'revoked':
      return new AppError('api_key_revoked', 'This API key has been revoked');
    case 'expired':
      return new AppError('api_key_expired', 'This API key has expired');
    case 'disabled':
      return new AppError('api_key_disabled', 'This API key is disabled');
    default:
      return null;
  }
}

export const invalidApiKey = () => new AppError('invalid_api_key', 'Invalid API key');
