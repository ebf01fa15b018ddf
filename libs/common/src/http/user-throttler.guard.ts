import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ContextualRequest } from '../context/request-context';

/** Throttles per signed-in user (not per IP), e.g. key refreshes. Runs after the auth guard. */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const auth = (req as unknown as ContextualRequest).auth;
    return auth?.user ? `user:${auth.user.id}` : `ip:${String(req.ip)}`;
  }
}
