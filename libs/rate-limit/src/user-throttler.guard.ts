import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ContextualRequest } from '#libs/common';
import { refusalAnswered, sendRateLimited } from './rate-limited.reply';

/**
 * Throttles per signed-in user (not per IP), e.g. key refreshes. Runs after the auth guard. Over the
 * limit the 429 `rate_limited` (with `Retry-After`, set by the base guard) is answered here, without
 * an exception.
 */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const auth = (req as unknown as ContextualRequest).auth;
    return auth?.user ? `user:${auth.user.id}` : `ip:${String(req.ip)}`;
  }

  protected override throwThrottlingException(context: ExecutionContext): Promise<void> {
    const http = context.switchToHttp();
    sendRateLimited(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>());
    return refusalAnswered();
  }
}
