import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ContextualRequest } from '../context/request-context';

/** One window per key: limits are per minute. */
const WINDOW_MS = 60_000;
const COUNTED = Symbol('api-key-rate-counted');

/**
 * Per-key rate limit on every API-key route (part of `ApiKeyAuth`): at most the key's
 * `rate_limit_per_minute` requests per minute, counted by key id in the app's throttler storage
 * (Redis across instances when configured). Every answer carries `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the window ends); over the limit it is
 * a 429 `rate_limited` with `Retry-After`. Runs after the global auth guard, which resolved the key.
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const { req, res } = this.getRequestResponse(context);
    const request = req as ContextualRequest & { [COUNTED]?: true };
    const key = request.auth?.apiKey;
    // Clerk requests are not key-limited; a guard declared twice (class and method) counts once.
    if (!key || request[COUNTED]) return true;
    request[COUNTED] = true;
    const limit = key.rateLimitPerMinute;
    const tracker = `api-key:${key.id}`;
    const record = await this.storageService.increment(tracker, WINDOW_MS, limit, 0, 'api_key');
    this.setResponseHeader(res, 'X-RateLimit-Limit', limit);
    this.setResponseHeader(res, 'X-RateLimit-Remaining', Math.max(0, limit - record.totalHits));
    this.setResponseHeader(res, 'X-RateLimit-Reset', record.timeToExpire);
    if (record.isBlocked) {
      this.setResponseHeader(res, 'Retry-After', Math.max(1, record.timeToBlockExpire));
      await this.throwThrottlingException(context, { ...record, limit, ttl: WINDOW_MS, key: tracker, tracker });
    }
    return true;
  }
}
