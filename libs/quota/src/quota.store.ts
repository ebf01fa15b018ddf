import type { JournalMark } from '#libs/common';
import type { QuotaWindow } from './quota-period';

/** How long a reservation counts at most: a request (a long stream) still running after this may overshoot. */
export const RESERVATION_TTL_MS = 15 * 60_000;

export interface ReserveInput {
  apiKeyId: string;
  window: QuotaWindow;
  quota: number;
  /** Tokens held back for the request until it settles. */
  tokens: number;
  /** Unique per request. */
  reservationId: string;
}

export interface ReserveResult {
  granted: boolean;
  /** Settled tokens of the window, as seen by the check. */
  used: number;
}

/** A spend limit to check: admitted while the window's settled spend is below it. */
export interface SpendCheck {
  window: QuotaWindow;
  limitMicros: number;
}

/** One admission: the token reservation (when the key has a quota) and the spend checks, in one step. */
export interface AdmitInput {
  apiKeyId: string;
  reserve: Omit<ReserveInput, 'apiKeyId'> | null;
  keyBudget: SpendCheck | null;
  tenantBudget: (SpendCheck & { tenantId: string }) | null;
}

export type AdmitResult =
  | { granted: true; used: number }
  | {
      granted: false;
      refusedBy: 'quota' | 'key_budget' | 'tenant_budget';
      /** Settled tokens (quota) or micro-dollars (budgets) of the refusing counter. */
      used: number;
      /** A reservation taken in the same round trip that must be released (the tenant refused after it). */
      release: Omit<ReserveInput, 'apiKeyId' | 'quota'> | null;
    };

export interface Settlement {
  apiKeyId: string;
  /** Every window the request counts in (day, month, total of the request's start). */
  windows: QuotaWindow[];
  /** Tokens actually used (0 when the request failed). */
  tokens: number;
  /** The reservation to release, when one was taken. */
  reservation: { window: QuotaWindow; reservationId: string; tokens: number } | null;
  /** What the request cost, in micro-dollars (OpenRouter's `usage.cost`); counted for the key in `windows`. */
  costMicros?: number;
  /** The key's tenant, whose spend counters take `costMicros` too (null: the key's counters only). */
  tenantId?: string | null;
}

/** A spend counter: a key's or a tenant's, in one window. */
export interface SpendKey {
  kind: 'api_key' | 'tenant';
  id: string;
  window: QuotaWindow;
}

/**
 * Token and spend counters per API key and window, and spend counters per tenant and window. `reserve`
 * and `admit` are atomic for tokens: they grant only while settled usage plus live reservations are below
 * the quota, so concurrent requests cannot overshoot beyond what the requests already admitted use beyond
 * their estimate. Spend is not known before a request ends: it is admitted while settled spend is below
 * the budget, so only requests already in flight can take it past.
 */
export interface QuotaStore {
  readonly kind: 'redis' | 'postgres';
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /** The budgets, then the token reservation: one round trip. */
  admit(input: AdmitInput): Promise<AdmitResult>;
  /**
   * Applies many settlements in one round trip. `mark` (the crash journal's position of the last one) is
   * recorded atomically with them, so that a replay of the journal skips exactly what was counted.
   */
  settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void>;
  /** The position recorded by `settle` for a journal's channel (0: none). */
  journalMark?(journal: string, channel: string): Promise<number>;
  /** Settled tokens of each (key, window). */
  used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]>;
  /** Settled spend (micro-dollars) of each counter. */
  spent(keys: SpendKey[]): Promise<number[]>;
  /** Writes what the store holds in memory (a store that writes through has nothing to do). */
  flush?(): Promise<void>;
  /**
   * A store that holds settlements in memory: resolves once everything settled before the call is written
   * (at its next flush, not forced). Absent: settled is written.
   */
  written?(): Promise<void>;
  /** Forgets day and month counters long over, where the store does not expire them itself. */
  prune?(olderThanDays: number): Promise<number>;
}

export const QUOTA_STORE = Symbol('QUOTA_STORE');

/** USD → micro-dollars, the integer unit every spend counter holds. */
export function toMicros(usd: number | null | undefined): number {
  return typeof usd === 'number' && Number.isFinite(usd) && usd > 0 ? Math.round(usd * 1_000_000) : 0;
}

export function fromMicros(micros: number): number {
  return micros / 1_000_000;
}
