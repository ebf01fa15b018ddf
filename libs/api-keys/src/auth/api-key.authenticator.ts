import { Injectable, Optional } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppError, isDatabaseUnavailable, RequestContext } from '#libs/common';
import { MetricsService } from '#libs/metrics';
import { hashApiKey, isWellFormedApiKey } from '../format/api-key-format';
import { invalidApiKey, refusalFor, statusOf } from '../api-key-state';
import { ApiKeyLookup } from './api-key.lookup';
import { ApiKeyCacheSync } from './api-key-cache.sync';
import { LastUsedTracker } from './last-used.tracker';
import type { VerifiedKey } from './verified-key';

/**
 * `X-API-Key` → request context. A malformed key (shape or checksum) is refused before any I/O; a
 * well-formed one is looked up by its SHA-256, from the in-process cache when warm. State (revoked,
 * expired, disabled) is checked on every request against the clock, so a scheduled revocation (the
 * end of a rotation's grace period) or an expiry takes effect to the millisecond even from the cache.
 * Provided under the auth guard's API_KEY_AUTHENTICATOR token (see ApiKeysModule).
 */
@Injectable()
export class ApiKeyAuthenticatorService {
  constructor(
    private readonly lookup: ApiKeyLookup,
    private readonly sync: ApiKeyCacheSync,
    private readonly lastUsed: LastUsedTracker,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async authenticate(rawKey: string): Promise<RequestContext> {
    if (!isWellFormedApiKey(rawKey)) throw invalidApiKey();
    const key = await this.find(hashApiKey(rawKey));
    if (!key) throw invalidApiKey();
    const now = Date.now();
    const refusal = refusalFor(statusOf(key, now));
    if (refusal) throw refusal;
    // A key never outlives its user's right to act in the tenant: left, deactivated, or never signed in.
    if (!key.userIsMember)
      throw new AppError('api_key_revoked', "This API key's user is no longer a member of its tenant");
    if (key.userId !== null && key.userStatus !== 'active')
      throw new AppError(
        'api_key_revoked',
        key.userStatus === 'pending'
          ? "This API key's user has never signed in"
          : "This API key's user has been deactivated",
      );
    this.lastUsed.touch(key.id, now);
    return {
      kind: 'api_key',
      tenant: key.tenant,
      user: key.user,
      apiKey: key.apiKey,
      role: null,
      sessionId: null,
      isPlatformAdmin: false,
    };
  }

  private async find(hash: string): Promise<VerifiedKey | null> {
    const cache = this.sync.cache;
    const cached = cache.get(hash);
    this.metrics?.cacheLookup('verified_api_key', cached !== undefined);
    if (cached !== undefined) return cached;
    const generation = cache.generation;
    let found: VerifiedKey | null;
    try {
      found = await this.lookup.byHash(hash);
    } catch (err) {
      throw asOutage(err);
    }
    cache.store(hash, generation, found);
    return found;
  }
}

/**
 * A failure to read the key is never a 401: the caller's key may well be valid. Connection-level
 * failures (refused, reset, pool timeout) are a 503 `database_unavailable`; a genuine SQL error stays
 * the bug it is.
 */
function asOutage(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof QueryFailedError && !isDatabaseUnavailable(err)) return err;
  return new AppError('database_unavailable', 'The database is unavailable; retry shortly', undefined, {
    'retry-after': '1',
  });
}
