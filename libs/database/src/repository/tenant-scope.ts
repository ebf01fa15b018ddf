import { requireTenantId } from '#libs/common';

/**
 * A tenant id, checked once. Repositories of tenant-owned tables hand out their tenant's view only for a scope
 * (`forTenant(tenantId)`), and every statement of that view names the scope's tenant: a view cannot be built
 * without one, so a query cannot forget it. The deliberate cross-tenant reads are named methods on the
 * repository itself, each with its reason, listed in docs/architecture.md.
 */
export class TenantScope {
  private constructor(readonly tenantId: string) {}

  static of(tenantId: string): TenantScope {
    return new TenantScope(requireTenantId(tenantId));
  }
}
