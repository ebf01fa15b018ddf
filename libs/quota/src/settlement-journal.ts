import type { JournalChannelSpec } from '#libs/journal';
import type { QuotaWindow } from './quota-period';
import type { QuotaStore, Settlement } from './quota.store';

/**
 * Settlements in the crash journal. Only what counts is kept (a release of a reservation alone is not:
 * reservations do not outlive the process's requests); the reservation itself is dropped. Replay settles
 * into the windows of the request's start, then flushes the store. The store records the journal's mark
 * with the counters (same transaction, same MULTI): its mark, not the journal file, decides what a replay skips.
 * Every numeric field (tokens, and whatever else a settlement counts) goes through as it is.
 */
export function settlementJournal(store: QuotaStore): JournalChannelSpec<Settlement> {
  return {
    name: 'quota',
    // Dates as epoch milliseconds: ISO text costs microseconds per date on the request path.
    encode: (s) =>
      counts(s)
        ? {
            ...s,
            windows: s.windows.map((w) => ({
              period: w.period,
              start: w.start.getTime(),
              end: w.end?.getTime() ?? null,
            })),
            reservation: null,
          }
        : undefined,
    decode: (data) => {
      const s = data as Settlement & { windows: { period: string; start: number; end: number | null }[] };
      return {
        ...s,
        windows: s.windows.map(
          (w) =>
            ({
              period: w.period,
              start: new Date(w.start),
              end: w.end === null ? null : new Date(w.end),
            }) as QuotaWindow,
        ),
      };
    },
    replay: async (settlements, mark) => {
      await store.settle(settlements, mark);
      await store.flush?.();
    },
    appliedUpTo: store.journalMark ? (journal) => store.journalMark!(journal, 'quota') : undefined,
    durable: store.written ? () => store.written!() : undefined,
  };
}

/** Tokens, or any other amount a settlement carries (spend), above zero. */
function counts(s: Settlement): boolean {
  if (s.tokens > 0) return true;
  return Object.entries(s).some(([field, value]) => field !== 'tokens' && typeof value === 'number' && value > 0);
}
