import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContextApiKey } from '#libs/common';
import { QuotaPolicyResolver } from './quota-policy.resolver';

/** A verified key as the api-keys lib hands it out: one frozen object while its cache holds it. */
function verifiedKey(fields: Record<string, unknown>): ContextApiKey {
  return Object.freeze({
    id: 'k1',
    name: 'k',
    prefix: 'umb_live_x',
    scopes: ['chat'],
    rateLimitPerMinute: 60,
    userId: 'u1',
    tenantId: 't1',
    ...fields,
  });
}

describe('the quota policy of a request API key', () => {
  it("reads the key's quota and both budgets, with their default periods", () => {
    const policy = new QuotaPolicyResolver().policyOf(
      verifiedKey({ tokenQuota: '5000', quotaPeriod: 'day', budgetUsd: 2, budgetPeriod: null, tenantBudgetUsd: null }),
    );
    assert.deepEqual(policy, {
      tokenQuota: 5000,
      period: 'day',
      budget: { usd: 2, period: 'month' },
      tenant: { id: 't1', budget: { usd: null, period: 'month' } },
    });
  });

  it('applies a changed key (a new verified object) to the next request, not the policy of the old one', () => {
    const resolver = new QuotaPolicyResolver();
    const before = verifiedKey({ tokenQuota: 100, quotaPeriod: 'month' });
    assert.equal(resolver.policyOf(before).tokenQuota, 100);
    assert.equal(resolver.policyOf(before), resolver.policyOf(before), 'worked out once per key object');
    const after = verifiedKey({ tokenQuota: 50, quotaPeriod: 'day' });
    assert.deepEqual([resolver.policyOf(after).tokenQuota, resolver.policyOf(after).period], [50, 'day']);
  });

  it('reads a key object that is not frozen afresh on every call', () => {
    const resolver = new QuotaPolicyResolver();
    const key = { id: 'k1', name: 'k', prefix: 'p', scopes: [], rateLimitPerMinute: 1, userId: null, tokenQuota: 10 };
    assert.equal(resolver.policyOf(key).tokenQuota, 10);
    key.tokenQuota = 20;
    assert.equal(resolver.policyOf(key).tokenQuota, 20);
  });
});
