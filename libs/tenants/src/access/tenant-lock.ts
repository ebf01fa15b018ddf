import { Errors } from '#libs/common';
import type { UnitOfWork } from '#libs/database';
import type { LockedTenant, TenantRepository } from '../tenant.repository';

export type { LockedTenant } from '../tenant.repository';

/**
 * Locks the tenant row for the rest of the transaction, or 404. Every change of a tenant or of its memberships
 * takes this lock first, so that checks such as "is this the last owner?" cannot race each other.
 */
export async function lockTenant(tenants: TenantRepository, uow: UnitOfWork, tenantId: string): Promise<LockedTenant> {
  const tenant = await tenants.lock(uow, tenantId);
  if (!tenant) throw Errors.notFound('Tenant');
  return tenant;
}
