import type { KeySpend } from '../client/key-usage';
import type { LimitReset } from '../client/openrouter.types';

/** The period a user's OpenRouter budget is for (`OPENROUTER_KEY_LIMIT_RESET`). */
export type BudgetPeriod = 'none' | LimitReset;
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['none', 'daily', 'weekly', 'monthly'];

const DAY_MS = 86_400_000;
/** USD amounts are kept to the micro-dollar; a key's limit to the hundredth of a cent. */
const SPEND_SCALE = 1e6;
const LIMIT_SCALE = 1e4;

/**
 * Start of the period containing `now`, at OpenRouter's boundaries: UTC midnight, Monday 00:00 UTC, the 1st
 * 00:00 UTC. Null for `none`: the budget is for the user's whole life.
 */
export function periodStart(period: BudgetPeriod, now: Date): Date | null {
  if (period === 'none') return null;
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (period === 'daily') return new Date(day);
  if (period === 'monthly') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const sinceMonday = (now.getUTCDay() + 6) % 7;
  return new Date(day - sinceMonday * DAY_MS);
}

/** Start of the period after the one containing `now` (null for `none`, which never ends). */
export function nextPeriodStart(period: BudgetPeriod, now: Date): Date | null {
  const start = periodStart(period, now);
  if (!start) return null;
  if (period === 'daily') return new Date(start.getTime() + DAY_MS);
  if (period === 'weekly') return new Date(start.getTime() + 7 * DAY_MS);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

/** OpenRouter's `limit_reset` for keys of this period. */
export function limitResetOf(period: BudgetPeriod): LimitReset | null {
  return period === 'none' ? null : period;
}

/** What a key spent in the current period as OpenRouter counts it for `limit_reset`; null when it did not say. */
export function usageInPeriod(spend: KeySpend, period: BudgetPeriod): number | null {
  switch (period) {
    case 'none':
      return spend.usage;
    case 'daily':
      return spend.usageDaily;
    case 'weekly':
      return spend.usageWeekly;
    case 'monthly':
      return spend.usageMonthly;
  }
}

/** Spend as counted: rounded up to the micro-dollar, so that rounding never leaves money to spend again. */
export function countedSpend(usd: number): number {
  if (!Number.isFinite(usd) || usd <= 0) return 0;
  return Math.ceil(usd * SPEND_SCALE - 1e-6) / SPEND_SCALE;
}

/** Adds spends, each counted as above, without float drift. */
export function addSpend(a: number, b: number): number {
  return Math.round((countedSpend(a) + countedSpend(b)) * SPEND_SCALE) / SPEND_SCALE;
}

/**
 * A key's limit when `spent` of `budget` is gone: what is left, rounded down to the hundredth of a cent (never
 * up) and never below 0.
 */
export function remainingLimit(budget: number, spent: number): number {
  const left = budget - countedSpend(spent);
  if (!(left > 0)) return 0;
  return Math.floor(left * LIMIT_SCALE + 1e-6) / LIMIT_SCALE;
}

/** Two limits equal to the precision they are kept at. */
export function sameLimit(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) < 0.5 / LIMIT_SCALE;
}
