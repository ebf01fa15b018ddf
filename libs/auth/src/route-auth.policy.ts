import type { Reflector } from '@nestjs/core';
import { AUTH_KINDS, AuthKind, IS_PUBLIC, PLATFORM_ADMIN, REQUIRED_ROLES, REQUIRED_SCOPES } from '#libs/common';
import { TenantRole } from '#libs/tenants';
import { ApiKeyScope } from '#libs/api-keys';

/** A handler or controller class, as Nest's Reflector takes them. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type RouteTarget = Function;

/** What a route demands of its caller, read from its decorators once per handler. */
export interface RouteAuthPolicy {
  readonly isPublic: boolean;
  /** Credentials the route accepts (Clerk session by default). */
  readonly kinds: readonly AuthKind[];
  readonly roles: readonly TenantRole[];
  readonly scopes: readonly ApiKeyScope[];
  readonly platformAdmin: boolean;
}

/** Reads the auth decorators of a handler and its controller (the handler's win), as the guard did per request. */
export function readRouteAuthPolicy(
  reflector: Reflector,
  handler: RouteTarget,
  controller: RouteTarget,
): RouteAuthPolicy {
  const targets = [handler, controller];
  return {
    isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
    kinds: reflector.getAllAndOverride<AuthKind[]>(AUTH_KINDS, targets) ?? ['clerk'],
    roles: reflector.getAllAndOverride<TenantRole[]>(REQUIRED_ROLES, targets) ?? [],
    scopes: reflector.getAllAndOverride<ApiKeyScope[]>(REQUIRED_SCOPES, targets) ?? [],
    platformAdmin: reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN, targets) === true,
  };
}
