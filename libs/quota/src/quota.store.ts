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

export interface Settlement {
  apiKeyId: string;
  /** Every window the request counts in (day, month, total of the request's start). */
  windows: QuotaWindow[];
  /** Tokens actually used (0 when the request failed). */
  tokens: number;
  /** The reservation to release, when one was taken. */
  reservation: { window: QuotaWindow; reservationId: string; tokens: number } | null;
}

/**
 * Token counters per API key and window. `reserve` is atomic: it grants only while settled usage plus
 * live reservations are below the quota, so concurrent requests cannot overshoot beyond what the
 * requests already admitted use beyond their estimate.
 */
export interface QuotaStore {
  readonly kind: 'redis' | 'postgres';
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /**
   * Applies many settlements in one round trip. `mark` (the crash journal's position of the last one) is
   * recorded atomically with them, so that a replay of the journal skips exactly what was counted.
   */
  settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void>;
  /** The position recorded by `settle` for a journal's channel (0: none). */
  journalMark?(journal: string, channel: string): Promise<number>;
  /** Settled tokens of each (key, window). */
  used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]>;
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
