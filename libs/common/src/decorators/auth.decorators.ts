import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { ContextualRequest, RequestContext } from '../context/request-context';

export const IS_PUBLIC = 'auth:public';
export const AUTH_KINDS = 'auth:kinds';
export const REQUIRED_SCOPES = 'auth:scopes';
export const REQUIRED_ROLES = 'auth:roles';
export const PLATFORM_ADMIN = 'auth:platform-admin';

export type AuthKind = 'clerk' | 'api_key' | 'api_key_bearer';

/** Opens a route to anyone. Everything else is closed by the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Clerk session token only (the default for routes without an auth decorator). */
export const ClerkAuth = () =>
  applyDecorators(SetMetadata(AUTH_KINDS, ['clerk'] satisfies AuthKind[]), ApiBearerAuth('clerk'));

/**
 * Tenant API key in `X-API-Key`. With `{ bearer: true }` (OpenAI-compatible routes) a key in
 * `Authorization: Bearer` is accepted too, so that OpenAI SDKs work unchanged. Every API-key request is rate
 * limited per key by the rate-limit lib's global guard (X-RateLimit-* headers, 429 `rate_limited`).
 */
export const ApiKeyAuth = (opts: { bearer?: boolean } = {}) =>
  applyDecorators(
    SetMetadata(AUTH_KINDS, (opts.bearer ? ['api_key', 'api_key_bearer'] : ['api_key']) satisfies AuthKind[]),
    ApiSecurity('api_key'),
    ...(opts.bearer ? [ApiBearerAuth('api_key_bearer')] : []),
  );

/** Only users listed in PLATFORM_ADMIN_USER_IDS. */
export const PlatformAdmin = () => applyDecorators(SetMetadata(PLATFORM_ADMIN, true), ClerkAuth());

function contextOf(ctx: ExecutionContext): RequestContext {
  const req = ctx.switchToHttp().getRequest<ContextualRequest>();
  if (!req.auth) throw new Error('Request context read on a route the auth guard did not resolve');
  return req.auth;
}

export const CurrentContext = createParamDecorator((_: unknown, ctx: ExecutionContext) => contextOf(ctx));
export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext) => contextOf(ctx).tenant);
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext) => contextOf(ctx).user);
export const CurrentApiKey = createParamDecorator((_: unknown, ctx: ExecutionContext) => contextOf(ctx).apiKey);
