import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiParam } from '@nestjs/swagger';
import { ContextualRequest, Errors } from '#libs/common';
import { TenantRole } from '../roles';
import type { TenantWithRole } from '../members/membership.repository';
import { MembershipQueries } from '../membership.queries';

const PATH_TENANT_ROLES = 'tenants:path-roles';

/** The tenant named in the path, as the caller sees it (their role in it). */
export type PathTenantAccess = TenantWithRole;

type RequestWithTenant = ContextualRequest & { params?: Record<string, string>; pathTenant?: PathTenantAccess };

/**
 * Authorizes a Clerk user on the tenant in the path (`:tenantId`, its id or its slug), not on the active tenant:
 * a user who is not a member gets 404 (the tenant does not exist for them), a member without one of `roles` gets
 * 403. No roles means any member. Declares the path parameter in the OpenAPI document, which cannot see it
 * through `@PathTenant()`.
 */
export const TenantRoles = (...roles: TenantRole[]) =>
  applyDecorators(
    SetMetadata(PATH_TENANT_ROLES, roles),
    UseGuards(TenantAccessGuard),
    ApiParam({ name: 'tenantId', description: "The tenant's id or its slug", schema: { type: 'string' } }),
    ApiNotFoundResponse({ description: 'No such tenant, or the caller is not a member' }),
    ApiForbiddenResponse({
      description: `Needs the role ${roles.length ? roles.join(' or ') : 'member'} in the tenant`,
    }),
  );

/** The path tenant resolved by `TenantRoles`. */
export const PathTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): PathTenantAccess => {
  const access = ctx.switchToHttp().getRequest<RequestWithTenant>().pathTenant;
  if (!access) throw new Error('PathTenant read on a route without TenantRoles');
  return access;
});

@Injectable()
export class TenantAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly memberships: MembershipQueries,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RequestWithTenant>();
    const roles =
      this.reflector.getAllAndOverride<TenantRole[]>(PATH_TENANT_ROLES, [context.getHandler(), context.getClass()]) ??
      [];
    const userId = req.auth?.user?.id;
    const idOrSlug = req.params?.tenantId;
    if (!userId || !idOrSlug) throw Errors.notFound('Tenant');
    const access = await this.memberships.byIdOrSlug(userId, idOrSlug);
    if (!access) throw Errors.notFound('Tenant');
    if (roles.length && !roles.includes(access.role)) {
      throw Errors.forbidden(`This needs the role ${roles.join(' or ')} in this tenant`);
    }
    req.pathTenant = access;
    return true;
  }
}
