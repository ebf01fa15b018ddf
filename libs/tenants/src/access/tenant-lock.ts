import type { EntityManager } from 'typeorm';
import { Errors, requireTenantId } from '#libs/common';

export interface LockedTenant {
  id: string;
  name: string;
  slug: string;
  personalOwnerId: string | null;
}

/**
 * Locks the tenant row for the rest of the transaction. Every change of a tenant or of its memberships
 * takes this lock first, so that checks such as "is this the last owner?" cannot race each other.
 */
export async function lockTenant(m: EntityManager, tenantId: string): Promise<LockedTenant> {
  const rows: LockedTenant[] = await m.query(
    `SELECT id, name, slug, personal_owner_id AS "personalOwnerId" FROM tenants WHERE id = $1 FOR UPDATE`,
    [requireTenantId(tenantId)],
  );
  if (!rows[0]) throw Errors.notFound('Tenant');
  return rows[0];
}
