/**
 * The data layer's tenant wall: every query of a tenant-owned table goes through a method whose first
 * argument is the tenant id, and refuses to run without one. An empty id is a bug (a query that would
 * span tenants), so it throws rather than answering.
 */
export function requireTenantId(tenantId: string | null | undefined): string {
  if (typeof tenantId !== 'string' || tenantId.trim() === '') {
    throw new Error('Tenant-owned query without a tenant id');
  }
  return tenantId;
}
