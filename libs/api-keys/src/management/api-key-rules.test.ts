/** Which changes make a key stronger, and who may make them: the one rule the editor and rotation apply. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '#libs/common';
import { assertMayRotate, assertMayStrengthen, KeyStrength, strengthenedFields } from './api-key-rules';

const OWNER_OF_KEY = 'user-o';
const key: KeyStrength = {
  userId: OWNER_OF_KEY,
  scopes: ['chat'],
  isActive: false,
  rateLimitPerMinute: 60,
  tokenQuota: 1000,
  quotaPeriod: 'month',
  budgetUsd: 5,
  budgetPeriod: 'month',
  expiresAt: new Date('2030-01-01T00:00:00Z'),
};
const change = (c: Partial<KeyStrength>) => strengthenedFields(key, { ...key, ...c });

describe('key strength rules', () => {
  it('names every way of making a key stronger', () => {
    assert.deepEqual(change({ isActive: true }), ['is_active']);
    assert.deepEqual(change({ scopes: ['chat', 'users:write'] }), ['scopes']);
    assert.deepEqual(change({ rateLimitPerMinute: 61 }), ['rate_limit_per_minute']);
    assert.deepEqual(change({ tokenQuota: 1001 }), ['token_quota']);
    assert.deepEqual(change({ tokenQuota: null, quotaPeriod: null }), ['token_quota']);
    assert.deepEqual(change({ quotaPeriod: 'day' }), ['token_quota'], 'a shorter period gives more');
    assert.deepEqual(change({ budgetUsd: null }), ['budget_usd']);
    assert.deepEqual(change({ budgetUsd: 4, budgetPeriod: 'day' }), ['budget_usd']);
    assert.deepEqual(change({ expiresAt: null }), ['expires_at']);
    assert.deepEqual(change({ expiresAt: new Date('2031-01-01T00:00:00Z') }), ['expires_at']);
  });

  it('counts disabling, narrowing, lowering and shortening as nothing stronger', () => {
    const weaker = change({
      scopes: [],
      rateLimitPerMinute: 1,
      tokenQuota: 10,
      quotaPeriod: 'total',
      budgetUsd: 0,
      budgetPeriod: 'total',
      expiresAt: new Date('2029-01-01T00:00:00Z'),
    });
    assert.deepEqual(weaker, []);
    const active = { ...key, isActive: true };
    assert.deepEqual(strengthenedFields(active, { ...active, isActive: false }), []);
    const unlimited = { ...key, tokenQuota: null, quotaPeriod: null, budgetUsd: null, expiresAt: null };
    assert.deepEqual(
      strengthenedFields(unlimited, {
        ...unlimited,
        tokenQuota: 5,
        quotaPeriod: 'day',
        budgetUsd: 1,
        budgetPeriod: 'day',
        expiresAt: new Date('2030-01-01T00:00:00Z'),
      }),
      [],
      'setting a first limit or expiry lowers',
    );
  });

  it("lets only the key's own user strengthen or rotate; anyone may weaken", () => {
    const forbidden = (fn: () => void) =>
      assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === 'forbidden' && e.status === 403);
    forbidden(() => assertMayStrengthen(key, { ...key, isActive: true }, 'user-admin'));
    forbidden(() => assertMayStrengthen(key, { ...key, isActive: true }, null));
    forbidden(() => assertMayRotate(key, 'user-admin'));
    forbidden(() => assertMayRotate({ userId: null }, null));
    assertMayStrengthen(key, { ...key, isActive: true, scopes: ['chat', 'usage:read'] }, OWNER_OF_KEY);
    assertMayRotate(key, OWNER_OF_KEY);
    assertMayStrengthen(key, { ...key, budgetUsd: 1, tokenQuota: 1 }, 'user-admin');
  });
});
