import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireTenantId } from './require-tenant-id';

describe('requireTenantId', () => {
  it('returns the tenant id it was given', () => {
    assert.equal(requireTenantId('3f2a'), '3f2a');
  });
  it('refuses a missing, empty or blank id: such a query would span tenants', () => {
    for (const id of [undefined, null, '', '  '])
      assert.throws(() => requireTenantId(id), /Tenant-owned query without a tenant id/, String(id));
  });
});
