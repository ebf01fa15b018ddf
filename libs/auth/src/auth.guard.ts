import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ApiKeyScope,
  AUTH_KINDS,
  AuthKind,
  ContextualRequest,
  Errors,
  IS_PUBLIC,
  PLATFORM_ADMIN,
  REQUIRED_ROLES,
  REQUIRED_SCOPES,
  RequestContext,
  TenantRole,
} from '#libs/common';
import { API_KEY_AUTHENTICATOR, ApiKeyAuthenticator } from './api-key-authenticator';
import { ClerkAuthenticator } from './clerk/clerk.authenticator';

/**
 * The global guard: every route is closed unless marked `@Public()`. It resolves the credential the
 * route accepts (Clerk session by default, tenant API key where declared) into one request context,
 * then checks roles, scopes and platform-admin rights.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly clerk: ClerkAuthenticator,
    @Optional() @Inject(API_KEY_AUTHENTICATOR) private readonly apiKeys?: ApiKeyAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<ContextualRequest>();
    const kinds = this.reflector.getAllAndOverride<AuthKind[]>(AUTH_KINDS, targets) ?? ['clerk'];
    const auth = await this.resolve(req, kinds);
    this.authorize(auth, targets);
    req.auth = auth;
    return true;
  }

  private async resolve(req: ContextualRequest, kinds: AuthKind[]): Promise<RequestContext> {
    const apiKeyHeader = header(req, 'x-api-key');
    const bearer = bearerToken(header(req, 'authorization'));
    const tenantHeader = header(req, 'x-tenant-id');
    if (kinds.includes('api_key')) {
      const rawKey = apiKeyHeader ?? (kinds.includes('api_key_bearer') ? bearer : undefined);
      if (!rawKey) throw Errors.unauthenticated('An API key is required (X-API-Key)');
      if (!this.apiKeys) throw Errors.unauthenticated('API keys are not enabled');
      const ctx = await this.apiKeys.authenticate(rawKey, req);
      if (tenantHeader !== undefined && tenantHeader !== ctx.tenant.id && tenantHeader !== ctx.tenant.slug)
        throw Errors.tenantMismatch();
      return ctx;
    }
    if (!bearer) throw Errors.unauthenticated('A Clerk session token is required (Authorization: Bearer)');
    return this.clerk.authenticate(bearer, tenantHeader);
  }

  private authorize(auth: RequestContext, targets: Parameters<Reflector['getAllAndOverride']>[1]): void {
    if (this.reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN, targets) && !auth.isPlatformAdmin) {
      throw Errors.forbidden('Platform administrators only');
    }
    const roles = this.reflector.getAllAndOverride<TenantRole[]>(REQUIRED_ROLES, targets);
    if (roles?.length && auth.kind === 'clerk' && (!auth.role || !roles.includes(auth.role))) {
      throw Errors.forbidden(`This needs the role ${roles.join(' or ')} in the active tenant`);
    }
    const scopes = this.reflector.getAllAndOverride<ApiKeyScope[]>(REQUIRED_SCOPES, targets);
    if (scopes?.length && auth.apiKey && !scopes.every((s) => auth.apiKey!.scopes.includes(s))) {
      throw Errors.forbidden(`This API key lacks the scope ${scopes.join(', ')}`);
    }
  }
}

function header(req: ContextualRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw Errors.unauthenticated('Malformed Authorization header (expected "Bearer <token>")');
  return match[1];
}
