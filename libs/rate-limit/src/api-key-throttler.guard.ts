import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ContextualRequest } from '#libs/common';
import { refusalAnswered, sendRateLimited } from './rate-limited.reply';

/** One window per key: limits are per minute. */
const WINDOW_MS = 60_000;
const COUNTED = Symbol('api-key-rate-counted');

/**
 * Per-key rate limit on every API-key request: at most the key's
 * `rate_limit_per_minute` requests per minute, counted by key id in the app's throttler storage
 * (Redis across instances when configured). Every answer carries `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the window ends); over the limit it is
 * a 429 `rate_limited` with `Retry-After`. A global guard (RateLimitModule): the edge resolved the credential
 * before the body was read, so every API-key request is limited here, whichever route it is on.
 *
 * A refusal is answered here, without an exception: a key at its limit is typically hammered, and
 * refusing must not cost more than serving (an exception captures a stack through Nest's async chain
 * and runs the filters; the access line already records the 429).
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<ContextualRequest & { [COUNTED]?: true }>();
    const key = request.auth?.apiKey;
    // Clerk requests are not key-limited; a guard declared twice (class and method) counts once.
    if (!key || request[COUNTED]) return true;
    request[COUNTED] = true;
    const limit = key.rateLimitPerMinute;
    const record = await this.storageService.increment(`api-key:${key.id}`, WINDOW_MS, limit, 0, 'api_key');
    const reply = http.getResponse<FastifyReply>();
    reply.header('X-RateLimit-Limit', limit);
    reply.header('X-RateLimit-Remaining', Math.max(0, limit - record.totalHits));
    reply.header('X-RateLimit-Reset', record.timeToExpire);
    if (!record.isBlocked) return true;
    reply.header('Retry-After', Math.max(1, record.timeToBlockExpire));
    sendRateLimited(reply, request as unknown as FastifyRequest);
    return refusalAnswered();
  }
}
