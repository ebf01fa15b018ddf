/**
 * QuotaService's own rules around a mocked store (Nest testing module): what admission asks the store for
 * budgets, how refusals come back, and what settlement hands on (tokens, micro-dollars, the tenant).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { QuotaSettler } from './quota-settler';
import { quotaRefusalError } from './quota-refusal';
import { AdmitInput, AdmitResult, QUOTA_STORE, QuotaStore, Settlement } from './quota.store';
import { QuotaPolicy, QuotaService } from './quota.service';

class MockStore implements QuotaStore {
  readonly kind = 'postgres' as const;
  admitted: AdmitInput[] = [];
  settled: Settlement[] = [];
  answer: AdmitResult = { granted: true, used: 0 };
  async reserve() {
    return { granted: true, used: 0 };
  }
  async admit(input: AdmitInput) {
    this.admitted.push(input);
    return this.answer;
  }
  async settle(items: Settlement[]) {
    this.settled.push(...items);
  }
  async used(keys: unknown[]) {
    return keys.map(() => 0);
  }
  async spent(keys: unknown[]) {
    return keys.map(() => 0);
  }
}

async function build() {
  const store = new MockStore();
  const moduleRef = await Test.createTestingModule({
    providers: [{ provide: QUOTA_STORE, useValue: store }, QuotaSettler, QuotaService],
  }).compile();
  return { store, service: moduleRef.get(QuotaService), settler: moduleRef.get(QuotaSettler) };
}

const TENANT = '6f1f9c1e-0000-4000-8000-000000000001';
const budgets = (key: number | null, tenant: number | null): QuotaPolicy => ({
  tokenQuota: null,
  period: 'total',
  budget: { usd: key, period: 'day' },
  tenant: { id: TENANT, budget: { usd: tenant, period: 'month' } },
});

describe('QuotaService budgets', () => {
  it('asks the store nothing for a key without limits, but the ticket still names the tenant', async () => {
    const { store, service } = await build();
    const admission = await service.admit('k1', budgets(null, null), 0);
    assert.ok(admission.granted);
    assert.equal(store.admitted.length, 0);
    assert.equal(admission.ticket.tenantId, TENANT);
  });

  it('refuses a budget of 0 without I/O, the tenant first', async () => {
    const { store, service } = await build();
    const tenant = await service.admit('k1', budgets(5, 0), 0);
    assert.deepEqual(tenant, { granted: false, budget: 'tenant', budgetUsd: 0, period: 'month', spentUsd: 0 });
    const key = await service.admit('k1', budgets(0, null), 0);
    assert.deepEqual(key, { granted: false, budget: 'api_key', budgetUsd: 0, period: 'day', spentUsd: 0 });
    assert.equal(store.admitted.length, 0);
  });

  it('hands the store both budgets in micro-dollars with their own windows', async () => {
    const { store, service } = await build();
    const at = new Date('2026-03-15T10:00:00Z');
    await service.admit('k1', budgets(1.25, 0.000_3), 0, at);
    const input = store.admitted[0];
    assert.equal(input.reserve, null);
    assert.equal(input.keyBudget?.limitMicros, 1_250_000);
    assert.equal(input.keyBudget?.window.start.toISOString(), '2026-03-15T00:00:00.000Z');
    assert.equal(input.tenantBudget?.limitMicros, 300);
    assert.equal(input.tenantBudget?.tenantId, TENANT);
    assert.equal(input.tenantBudget?.window.start.toISOString(), '2026-03-01T00:00:00.000Z');
  });

  it('maps refusals to the contract codes and releases a reservation the tenant refused after', async () => {
    const { store, service, settler } = await build();
    store.answer = {
      granted: false,
      refusedBy: 'tenant_budget',
      used: 2_000_000,
      release: { window: { period: 'total', start: new Date(0), end: null }, reservationId: 'r1', tokens: 50 },
    };
    const refused = await service.admit('k1', { ...budgets(null, 2), tokenQuota: 100 }, 40);
    assert.equal(refused.granted, false);
    const error = quotaRefusalError(refused as Exclude<typeof refused, { granted: true }>);
    assert.deepEqual([error.code, error.status], ['tenant_budget_exceeded', 429]);
    await settler.drain();
    assert.deepEqual(
      store.settled.map((s) => [s.apiKeyId, s.tokens, s.reservation?.reservationId]),
      [['k1', 0, 'r1']],
    );

    store.answer = { granted: false, refusedBy: 'key_budget', used: 1_000_000, release: null };
    const key = await service.admit('k1', budgets(1, null), 0);
    assert.deepEqual(key, { granted: false, budget: 'api_key', budgetUsd: 1, period: 'day', spentUsd: 1 });
    assert.equal(quotaRefusalError(key as never).code, 'budget_exceeded');
  });

  it('settles tokens and cost (micro-dollars) for the key and its tenant, once', async () => {
    const { store, service, settler } = await build();
    const admission = await service.admit('k1', budgets(null, null), 0);
    assert.ok(admission.granted);
    service.settle(admission.ticket, { tokens: 30, costUsd: 0.000_123_4 });
    service.settle(admission.ticket, { tokens: 30, costUsd: 0.000_123_4 });
    await settler.drain();
    assert.equal(store.settled.length, 1);
    assert.deepEqual(
      [
        store.settled[0].tokens,
        store.settled[0].costMicros,
        store.settled[0].tenantId,
        store.settled[0].windows.length,
      ],
      [30, 123, TENANT, 3],
    );
  });

  it('replays a record through a ticket without a reservation, in the windows of its time', async () => {
    const { store, service, settler } = await build();
    const ticket = service.ticketFor('k2', TENANT, new Date('2026-01-31T23:00:00Z'));
    service.settle(ticket, { tokens: 10, costUsd: 0.5 });
    await settler.drain();
    assert.deepEqual(
      store.settled[0].windows.map((w) => w.start.toISOString()),
      ['2026-01-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'],
    );
    assert.equal(store.settled[0].costMicros, 500_000);
  });

  it('refuses a token quota by code: 0 without I/O, else with the settled tokens the store saw', async () => {
    const { store, service } = await build();
    const quota = (tokenQuota: number): QuotaPolicy => ({ tokenQuota, period: 'day' });
    const none = await service.admit('k1', quota(0), 10);
    assert.deepEqual(none, { granted: false, quota: 0, period: 'day', used: 0 });
    assert.equal(store.admitted.length, 0);

    store.answer = { granted: false, refusedBy: 'quota', used: 120, release: null };
    const refused = await service.admit('k1', quota(100), 10);
    assert.deepEqual(refused, { granted: false, quota: 100, period: 'day', used: 120 });
    const error = quotaRefusalError(refused as never);
    assert.deepEqual([error.code, error.status], ['quota_exceeded', 429]);
    assert.equal(store.admitted[0].reserve?.quota, 100);
    assert.equal(store.admitted[0].reserve?.tokens, 10);
  });

  it('admits unchecked when the store fails (fail open), without a reservation to release', async () => {
    const { store, service } = await build();
    store.admit = async () => {
      throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
    };
    const admission = await service.admit('k1', { tokenQuota: 100, period: 'day' }, 10);
    assert.ok(admission.granted);
    assert.equal(admission.ticket.reservation, null);
  });
});
