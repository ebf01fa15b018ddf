import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ContextualRequest, LruCache } from '#libs/common';
import { AppConfig } from '#libs/config';
import { AuthFailureLimiter, sendEdgeError } from '#libs/http-edge';
import { CredentialResolver } from '../credential.resolver';
import { RouteAuthPolicies } from '../route-auth.policies';

/**
 * Authenticates and authorizes every protected request in Fastify's `onRequest` hook: before the body is
 * read or parsed, so a large or deep body costs an unauthenticated caller nothing. A refusal (400, 401, 403,
 * 429) is answered here, without an exception travelling through Nest's filters; anything unexpected (the
 * database down) goes to Nest's error handler as usual. Failed authentications are counted per client
 * address (`req.ip`, which TRUST_PROXY governs) and an address over AUTH_FAILURES_PER_MINUTE gets 429, except
 * for credentials that already authenticated from it: valid credentials are never refused by the limit.
 */
@Injectable()
export class EdgeAuthenticationHook {
  private readonly failures: AuthFailureLimiter;
  /** Credentials that authenticated from an address with failures; kept in memory like the verifiers' caches. */
  private readonly proven = new LruCache<string, true>(50_000, 10 * 60_000);

  constructor(
    private readonly policies: RouteAuthPolicies,
    private readonly credentials: CredentialResolver,
    config: AppConfig,
  ) {
    this.failures = new AuthFailureLimiter(config.authFailuresPerMinute);
  }

  install(fastify: FastifyInstance): void {
    fastify.decorateRequest('auth', null);
    fastify.addHook('onRequest', (req, reply, done) => {
      const policy = this.policies.forRoute(req.method, req.routeOptions.url);
      if (!policy || policy.isPublic) return done();
      const retryAfter = this.failures.retryAfter(req.ip);
      // Only from an address with failures: credentials that worked from there stay welcome once it is blocked.
      const credential = retryAfter > 0 || this.failures.hasFailures(req.ip) ? provenKey(req) : undefined;
      if (retryAfter > 0 && !(credential && this.proven.get(credential))) {
        sendEdgeError(req, reply, 'rate_limited', 'Too many failed authentications from this address', {
          'retry-after': String(retryAfter),
        });
        return;
      }
      this.credentials.resolve(req as unknown as ContextualRequest, policy).then(
        (auth) => {
          try {
            this.credentials.authorize(auth, policy);
          } catch (err) {
            return this.refuse(req, reply, err, done);
          }
          (req as unknown as ContextualRequest).auth = auth;
          if (credential) this.proven.set(credential, true);
          done();
        },
        (err) => this.refuse(req, reply, err, done),
      );
    });
  }

  private refuse(req: FastifyRequest, reply: FastifyReply, err: unknown, done: (err?: Error) => void): void {
    if (!(err instanceof AppError) || err.status >= 500) return done(err as Error);
    if (err.status === 401) this.failures.recordFailure(req.ip);
    sendEdgeError(req, reply, err.code, err.message, err.headers);
  }
}

/** The request's credential as seen from its address: proven from one address says nothing of another. */
function provenKey(req: FastifyRequest): string | undefined {
  const value = req.headers['x-api-key'] ?? req.headers.authorization;
  const credential = Array.isArray(value) ? value[0] : value;
  return credential === undefined ? undefined : `${req.ip} ${credential}`;
}
