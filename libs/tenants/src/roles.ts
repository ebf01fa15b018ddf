import { SetMetadata } from '@nestjs/common';
import { REQUIRED_ROLES } from '#libs/common';

/** Roles a user can hold in a tenant, strongest first. */
export const TENANT_ROLES = ['owner', 'admin', 'member'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export function isTenantRole(value: unknown): value is TenantRole {
  return typeof value === 'string' && (TENANT_ROLES as readonly string[]).includes(value);
}

/** Roles a Clerk user needs in the active tenant for the route (API keys are judged by their scopes). */
export const RequireRoles = (...roles: TenantRole[]) => SetMetadata(REQUIRED_ROLES, roles);
