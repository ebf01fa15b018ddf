import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ContextualRequest } from '#libs/common';
import { AppConfig } from '#libs/config';
import { AuthFailureLimiter, sendEdgeError } from '#libs/http-edge';
import { RATE_LIMIT_STORAGE } from '#libs/rate-limit';
import { CredentialResolver } from '../credential.resolver';
import { RouteAuthPolicies } from '../route-auth.policies';

/**
 * Authenticates and authorizes every protected request in Fastify's `onRequest` hook: before the body is
 * read or parsed, so a large or deep body costs an unauthenticated caller nothing. A refusal (400, 401, 403,
 * 429) is answered here, without an exception travelling through Nest's filters; anything unexpected (the
 * database down) goes to Nest's error handler as usual.
 *
 * Failed authentications (401) are counted per client address (`req.ip`, which TRUST_PROXY governs); from an
 * address over AUTH_FAILURES_PER_MINUTE a credential that does not verify is answered 429 instead of 401.
 * Every credential is still verified, whatever its address: a valid one is never refused by the limit, so
 * a stranger's failures cannot lock out the people sharing an address. Verifying is cheap for what fails:
 * a malformed key or token is refused without I/O, a well-formed key costs a hash and a cache lookup (unknown
 * hashes are cached too), a Clerk token a signature check whose result is cached until it expires.
 */
@Injectable()
export class EdgeAuthenticationHook {
  private readonly failures: AuthFailureLimiter;

  constructor(
    private readonly policies: RouteAuthPolicies,
    private readonly credentials: CredentialResolver,
    config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) storage: ThrottlerStorage,
  ) {
    this.failures = new AuthFailureLimiter(config.authFailuresPerMinute, storage);
  }

  install(fastify: FastifyInstance): void {
    fastify.decorateRequest('auth', null);
    fastify.addHook('onRequest', (req, reply, done) => {
      const policy = this.policies.forRoute(req.method, req.routeOptions.url);
      if (!policy || policy.isPublic) return done();
      this.credentials.resolve(req as unknown as ContextualRequest, policy).then(
        (auth) => {
          try {
            this.credentials.authorize(auth, policy);
          } catch (err) {
            return this.refuse(req, reply, err, done);
          }
          (req as unknown as ContextualRequest).auth = auth;
          done();
        },
        (err) => this.refuse(req, reply, err, done),
      );
    });
  }

  private refuse(req: FastifyRequest, reply: FastifyReply, err: unknown, done: (err?: Error) => void): void {
    if (!(err instanceof AppError) || err.status >= 500) return done(err as Error);
    if (err.status !== 401) {
      sendEdgeError(req, reply, err.code, err.message, err.headers);
      return;
    }
    this.failures.recordFailure(req.ip).then((retryAfter) => {
      if (retryAfter === 0) sendEdgeError(req, reply, err.code, err.message, err.headers);
      else
        sendEdgeError(req, reply, 'rate_limited', 'Too many failed authentications from this address', {
          'retry-after': String(retryAfter),
        });
    }, done);
  }
}
