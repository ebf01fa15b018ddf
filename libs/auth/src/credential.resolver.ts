import { Inject, Injectable, Optional } from '@nestjs/common';
import { ContextualRequest, Errors, RequestContext } from '#libs/common';
import { isTenantRole } from '#libs/tenants';
import { API_KEY_AUTHENTICATOR, ApiKeyAuthenticator } from './api-key-authenticator';
import { ClerkAuthenticator } from './clerk/clerk.authenticator';
import type { RouteAuthPolicy } from './route-auth.policy';
import { AuthErrors } from './auth.errors';

type HeaderBag = Pick<ContextualRequest, 'id' | 'headers'>;

/**
 * Turns the credential a route accepts (Clerk session by default, tenant API key where declared) into one
 * request context, then checks roles, scopes and platform-admin rights. Throws the contract's coded errors.
 * Used by the edge hook (before the body is read) and by the guard for routes the hook did not resolve.
 */
@Injectable()
export class CredentialResolver {
  constructor(
    private readonly clerk: ClerkAuthenticator,
    @Optional() @Inject(API_KEY_AUTHENTICATOR) private readonly apiKeys?: ApiKeyAuthenticator,
  ) {}

  async resolve(req: HeaderBag, policy: RouteAuthPolicy): Promise<RequestContext> {
    const kinds = policy.kinds;
    const apiKeyHeader = header(req, 'x-api-key');
    const bearer = bearerToken(header(req, 'authorization'));
    const tenantHeader = header(req, 'x-tenant-id');
    if (kinds.includes('api_key')) {
      const rawKey = apiKeyHeader ?? (kinds.includes('api_key_bearer') ? bearer : undefined);
      if (!rawKey) throw Errors.unauthenticated('An API key is required (X-API-Key)');
      if (!this.apiKeys) throw Errors.unauthenticated('API keys are not enabled');
      const ctx = await this.apiKeys.authenticate(rawKey, req);
      if (tenantHeader !== undefined && tenantHeader !== ctx.tenant.id && tenantHeader !== ctx.tenant.slug)
        throw AuthErrors.tenantMismatch();
      return ctx;
    }
    if (!bearer) throw Errors.unauthenticated('A Clerk session token is required (Authorization: Bearer)');
    return this.clerk.authenticate(bearer, tenantHeader);
  }

  authorize(auth: RequestContext, policy: RouteAuthPolicy): void {
    if (policy.platformAdmin && !auth.isPlatformAdmin) throw Errors.forbidden('Platform administrators only');
    const roles = policy.roles;
    if (roles.length && auth.kind === 'clerk' && (!isTenantRole(auth.role) || !roles.includes(auth.role))) {
      throw Errors.forbidden(`This needs the role ${roles.join(' or ')} in the active tenant`);
    }
    const scopes = policy.scopes;
    if (scopes.length && auth.apiKey && !scopes.every((s) => auth.apiKey!.scopes.includes(s))) {
      throw Errors.forbidden(`This API key lacks the scope ${scopes.join(', ')}`);
    }
  }
}

function header(req: HeaderBag, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw Errors.unauthenticated('Malformed Authorization header (expected "Bearer <token>")');
  return match[1];
}
