/**
 * TenantBudgets' rules around mocked repositories (Nest testing module, no database): the view pairs the stored
 * budget with the spend of its period, a change is written and audited only when something differs (rounded to
 * micro-dollars), and every instance's verified keys are dropped only after a change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService } from '#libs/audit';
import { AppError } from '#libs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { SpendReader, type QuotaPeriod } from '#libs/quota';
import { InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { TenantRepository, type TenantBudgetRow } from '../tenant.repository';
import { TenantBudgets } from './tenant-budget.service';

const TENANT = '6f1f9c1e-0000-4000-8000-00000000000b';
const scope: AuditScope = { actor: { type: 'user', id: 'u-owner' }, requestId: null };

async function build(row: TenantBudgetRow | null) {
  const writes: [number | null, QuotaPeriod][] = [];
  const audits: { action: string; metadata?: unknown }[] = [];
  const published: string[] = [];
  const spendAsked: unknown[] = [];
  const tenants = {
    lock: async (_uow: UnitOfWork, id: string) => (row ? { id, name: 't', slug: 't', personalOwnerId: null } : null),
    budgetOf: async () => row,
    setBudget: async (_uow: UnitOfWork, _id: string, usd: number | null, period: QuotaPeriod) => {
      writes.push([usd, period]);
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      TenantBudgets,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: TenantRepository, useValue: tenants },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      {
        provide: InvalidationBus,
        useValue: { publish: async (t: string, id: string) => published.push(`${t} ${id}`) },
      },
      {
        provide: SpendReader,
        useValue: {
          spentUsd: async (q: unknown[]) => {
            spendAsked.push(...q);
            return [3.25];
          },
        },
      },
    ],
  }).compile();
  return { budgets: moduleRef.get(TenantBudgets), writes, audits, published, spendAsked };
}

describe('TenantBudgets', () => {
  it('views the budget with the spend of its period', async () => {
    const { budgets, spendAsked } = await build({ budget_usd: '10.500000', budget_period: 'day' });
    assert.deepEqual(await budgets.view(TENANT), { budgetUsd: 10.5, budgetPeriod: 'day', spentUsd: 3.25 });
    assert.deepEqual(spendAsked, [{ kind: 'tenant', id: TENANT, period: 'day' }]);
  });

  it('no budget: null, and the monthly spend', async () => {
    const { budgets } = await build(null);
    assert.deepEqual(await budgets.view(TENANT), { budgetUsd: null, budgetPeriod: 'month', spentUsd: 3.25 });
  });

  it('a change is rounded to micro-dollars, written, audited from/to, and the tenant’s keys dropped', async () => {
    const { budgets, writes, audits, published } = await build({ budget_usd: null, budget_period: 'month' });
    await budgets.change(TENANT, { budgetUsd: 1.23456789 }, scope);
    assert.deepEqual(writes, [[1.234568, 'month']]);
    assert.deepEqual(audits, [
      {
        action: 'tenant.updated',
        ...scope,
        tenantId: TENANT,
        target: { type: 'tenant', id: TENANT },
        metadata: { budget_usd: { from: null, to: 1.234568 } },
      },
    ]);
    assert.deepEqual(published, [`tenant ${TENANT}`]);
  });

  it('the same budget writes nothing, audits nothing and drops nothing', async () => {
    const { budgets, writes, audits, published } = await build({ budget_usd: '5.000000', budget_period: 'day' });
    await budgets.change(TENANT, { budgetUsd: 5, budgetPeriod: 'day' }, scope);
    assert.deepEqual([writes, audits, published], [[], [], []]);
  });

  it('null clears the budget; the period changes alone', async () => {
    const { budgets, writes } = await build({ budget_usd: '5.000000', budget_period: 'day' });
    await budgets.change(TENANT, { budgetUsd: null }, scope);
    await budgets.change(TENANT, { budgetPeriod: 'total' }, scope);
    assert.deepEqual(writes, [
      [null, 'day'],
      [5, 'total'],
    ]);
  });

  it('an unknown tenant is not_found', async () => {
    const { budgets, writes } = await build(null);
    await assert.rejects(
      budgets.change(TENANT, { budgetUsd: 1 }, scope),
      (err: unknown) => err instanceof AppError && err.code === 'not_found',
    );
    assert.deepEqual(writes, []);
  });
});
