import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addSpend,
  countedSpend,
  limitResetOf,
  nextPeriodStart,
  periodStart,
  remainingLimit,
  usageInPeriod,
  type BudgetPeriod,
} from './budget-period';

const instant = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const periods = fc.constantFrom<BudgetPeriod>('daily', 'weekly', 'monthly');
const usd = fc.double({ min: 0, max: 100_000, noNaN: true, noDefaultInfinity: true });

describe('budget periods', () => {
  it('start at OpenRouter boundaries: UTC midnight, Monday, the 1st', () => {
    const at = new Date('2026-12-06T14:05:00Z'); // a Sunday
    assert.equal(periodStart('daily', at)?.toISOString(), '2026-12-06T00:00:00.000Z');
    assert.equal(periodStart('weekly', at)?.toISOString(), '2026-11-30T00:00:00.000Z');
    assert.equal(periodStart('monthly', at)?.toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(periodStart('none', at), null);
    const monday = new Date('2026-12-07T00:00:00Z');
    assert.equal(periodStart('weekly', monday)?.toISOString(), '2026-12-07T00:00:00.000Z');
    assert.equal(
      nextPeriodStart('monthly', new Date('2026-12-31T23:59:59Z'))?.toISOString(),
      '2027-01-01T00:00:00.000Z',
    );
    assert.equal(nextPeriodStart('none', at), null);
  });

  it('contain the instant, and the next period starts where this one ends', () => {
    fc.assert(
      fc.property(periods, instant, (period, now) => {
        const start = periodStart(period, now)!;
        const next = nextPeriodStart(period, now)!;
        assert.ok(start.getTime() <= now.getTime() && now.getTime() < next.getTime());
        assert.equal(periodStart(period, next)!.getTime(), next.getTime(), 'the next start is a boundary');
        assert.equal(periodStart(period, new Date(next.getTime() - 1))!.getTime(), start.getTime());
        if (period === 'weekly') assert.equal(start.getUTCDay(), 1, 'weeks start on Monday');
        if (period === 'monthly') assert.equal(start.getUTCDate(), 1);
      }),
    );
  });

  it("maps to OpenRouter's limit_reset and reads the matching usage", () => {
    assert.equal(limitResetOf('none'), null);
    assert.equal(limitResetOf('weekly'), 'weekly');
    const spend = { usage: 9, usageDaily: 1, usageWeekly: 3, usageMonthly: 5, limit: 15, limitRemaining: 6 };
    assert.deepEqual(
      (['none', 'daily', 'weekly', 'monthly'] as const).map((p) => usageInPeriod(spend, p)),
      [9, 1, 3, 5],
    );
    assert.equal(usageInPeriod({ ...spend, usageDaily: null }, 'daily'), null, 'unknown stays unknown');
  });
});

describe('remaining budget', () => {
  it('is what is left, to the hundredth of a cent', () => {
    assert.equal(remainingLimit(15, 4), 11);
    assert.equal(remainingLimit(15, 3.42), 11.58);
    assert.equal(remainingLimit(15, 0.00001), 14.9999, 'rounded down, never up');
    assert.equal(remainingLimit(15, 20), 0);
    assert.equal(countedSpend(0.1234561), 0.123457, 'spend rounded up');
    assert.equal(countedSpend(-1), 0);
  });

  it('never gives more than the budget minus what was spent, however spend is split across keys', () => {
    fc.assert(
      fc.property(usd, fc.array(usd, { maxLength: 12 }), (budget, spends) => {
        let replaced = 0;
        for (const spent of spends) {
          const before = remainingLimit(budget, replaced);
          replaced = addSpend(replaced, spent);
          const after = remainingLimit(budget, replaced);
          assert.ok(after <= before, 'a replacement never raises the limit');
        }
        const exact = spends.reduce((a, b) => a + b, 0);
        assert.ok(replaced >= exact - 1e-6 * spends.length, 'spend is never under-counted');
        assert.ok(remainingLimit(budget, replaced) <= Math.max(0, budget - exact) + 1e-9);
        assert.ok(remainingLimit(budget, replaced) >= 0);
      }),
    );
  });
});
