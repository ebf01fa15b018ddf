/**
 * UserBudgets around mocked repositories and a mocked OpenRouter client (Nest testing module, no database): a new
 * budget period raises the key's limit upstream and starts the period's counters on the row; an admin's budget is
 * applied upstream first, and nothing is stored when OpenRouter refuses it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, SYSTEM_ACTOR, type AuditRecord } from '#libs/audit';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { Transactions, type UnitOfWork } from '#libs/database';
import { InvalidationBus } from '#libs/redis';
import { OpenRouterClient, OpenRouterError } from '../client';
import type { UpdateKeyInput, UpstreamKey } from '../client/openrouter.types';
import { KeyLease } from '../keys/key-lease';
import type { OpenRouterKey } from '../keys/openrouter-key.entity';
import { OpenRouterKeyRepository, type BudgetColumns } from '../keys/openrouter-key.repository';
import { OpenRouterKeyStore } from '../keys/openrouter-key.store';
import { periodStart } from './budget-period';
import { UserBudgets } from './user-budgets';
import '../openrouter.errors'; // the codes it throws, registered as the lib's index would

const USER = '0b7c4a52-0000-4000-8000-0000000000bb';
const DEFAULT_BUDGET = 10;

class World {
  row: OpenRouterKey;
  /** What happened, in order: upstream calls and writes. */
  log: string[] = [];
  updates: { hash: string; patch: UpdateKeyInput }[] = [];
  audits: AuditRecord[] = [];
  failUpstream = false;

  constructor(row: Partial<OpenRouterKey>) {
    this.row = {
      userId: USER,
      status: 'active',
      keyEncrypted: 'sealed',
      upstreamHash: 'h1',
      budgetUsd: null,
      budgetPeriod: 'monthly',
      periodStartedAt: periodStart('monthly', new Date()),
      replacedSpendUsd: 0,
      spendingLimit: DEFAULT_BUDGET,
      ...row,
    } as OpenRouterKey;
  }
}

async function build(world: World) {
  const keys = {
    writeBudgetColumns: async (_userId: string, hash: string, columns: BudgetColumns) => {
      world.log.push('write columns');
      if (world.row.upstreamHash === hash) world.row = { ...world.row, ...columns };
    },
    writeBudget: async (_uow: UnitOfWork, _userId: string, budgetUsd: number | null, columns: BudgetColumns) => {
      world.log.push('write budget');
      world.row = { ...world.row, budgetUsd, ...columns };
    },
  };
  const client = {
    updateKey: async (hash: string, patch: UpdateKeyInput) => {
      world.log.push('upstream');
      if (world.failUpstream) throw new OpenRouterError('openrouter_unavailable', 'down', { upstreamStatus: 500 });
      world.updates.push({ hash, patch });
      return { hash, usage: 1, usageMonthly: 1, limit: patch.limit ?? null, limitRemaining: null } as UpstreamKey;
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      UserBudgets,
      { provide: OpenRouterKeyRepository, useValue: keys },
      { provide: OpenRouterKeyStore, useValue: { find: async () => ({ ...world.row }) } },
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: OpenRouterClient, useValue: client },
      { provide: KeyLease, useValue: { hold: <T>(_u: string, work: () => Promise<T>) => work() } },
      { provide: AuditService, useValue: { record: async (event: AuditRecord) => world.audits.push(event) } },
      { provide: InvalidationBus, useValue: { publish: async () => {} } },
      { provide: AppConfig, useValue: { openRouter: { keyLimit: DEFAULT_BUDGET, keyLimitReset: 'monthly' } } },
    ],
  }).compile();
  return moduleRef.get(UserBudgets);
}

describe('UserBudgets.keepCurrent', () => {
  it('a key of this period with its limit is left alone: no upstream call', async () => {
    const world = new World({ replacedSpendUsd: 4, spendingLimit: 6 });
    const budgets = await build(world);
    assert.equal(budgets.isStale(world.row), false);
    await budgets.keepCurrent({ ...world.row });
    assert.deepEqual(world.log, []);
  });

  it("a new period raises the key to the whole budget: replaced keys' spend of last period no longer counts", async () => {
    const lastMonth = new Date(periodStart('monthly', new Date())!.getTime() - 86_400_000);
    const world = new World({
      replacedSpendUsd: 8,
      spendingLimit: 2,
      periodStartedAt: periodStart('monthly', lastMonth),
    });
    const budgets = await build(world);
    const row = await budgets.keepCurrent({ ...world.row });
    assert.deepEqual(world.updates, [{ hash: 'h1', patch: { limit: DEFAULT_BUDGET, limitReset: 'monthly' } }]);
    assert.deepEqual(world.log, ['upstream', 'write columns']);
    assert.equal(row?.spendingLimit, DEFAULT_BUDGET);
    assert.equal(row?.replacedSpendUsd, 0);
    assert.equal(row?.periodStartedAt?.getTime(), periodStart('monthly', new Date())!.getTime());
  });

  it('OpenRouter failing: the row is answered as it is, and the next request soon after does not ask again', async () => {
    const world = new World({ budgetPeriod: 'daily', spendingLimit: 3 });
    world.failUpstream = true;
    const budgets = await build(world);
    const row = await budgets.keepCurrent({ ...world.row });
    assert.equal(row?.spendingLimit, 3);
    await budgets.keepCurrent({ ...world.row });
    assert.deepEqual(world.log, ['upstream']);
  });
});

describe('UserBudgets.setBudget', () => {
  it("applies an admin's budget upstream first, then stores and audits it", async () => {
    const world = new World({ replacedSpendUsd: 1 });
    const budgets = await build(world);
    const { standing, spend } = await budgets.setBudget(USER, 25, SYSTEM_ACTOR);
    assert.deepEqual(world.log, ['upstream', 'write budget']);
    assert.deepEqual(world.updates, [{ hash: 'h1', patch: { limit: 24, limitReset: 'monthly' } }]);
    assert.deepEqual([standing.budget, standing.keyLimit], [25, 24]);
    assert.equal(spend?.usage, 1);
    assert.deepEqual([world.row.budgetUsd, world.row.spendingLimit], [25, 24]);
    assert.deepEqual(
      world.audits.map((a) => [
        a.action,
        a.metadata?.previous_budget_usd,
        a.metadata?.budget_usd,
        a.metadata?.key_limit,
      ]),
      [['user.budget_changed', null, 25, 24]],
    );
  });

  it('OpenRouter refusing the new limit: 502 openrouter_unavailable, nothing stored nor audited', async () => {
    const world = new World({});
    world.failUpstream = true;
    const budgets = await build(world);
    await assert.rejects(
      budgets.setBudget(USER, 25, SYSTEM_ACTOR),
      (err: unknown) => err instanceof AppError && err.code === 'openrouter_unavailable' && err.status === 502,
    );
    assert.deepEqual(world.log, ['upstream']);
    assert.equal(world.row.budgetUsd, null);
    assert.deepEqual(world.audits, []);
  });

  it('a user without a live key: the budget is stored for the next key, nothing asked upstream', async () => {
    const world = new World({ upstreamHash: null, status: 'none', keyEncrypted: null });
    const budgets = await build(world);
    await budgets.setBudget(USER, null, SYSTEM_ACTOR);
    assert.deepEqual(world.log, ['write budget']);
    assert.equal(world.audits[0]?.metadata?.key_limit, null);
  });

  for (const bad of [-1, Number.NaN, 1_000_001]) {
    it(`refuses a budget of ${bad}: 400 validation_failed`, async () => {
      const world = new World({});
      const budgets = await build(world);
      await assert.rejects(
        budgets.setBudget(USER, bad, SYSTEM_ACTOR),
        (err: unknown) => err instanceof AppError && err.code === 'validation_failed',
      );
      assert.deepEqual(world.log, []);
    });
  }
});
