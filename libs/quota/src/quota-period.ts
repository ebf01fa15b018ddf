export const QUOTA_PERIODS = ['day', 'month', 'total'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

/** One counting window of a key: the UTC day or month a request falls in, or the key's whole life. */
export interface QuotaWindow {
  period: QuotaPeriod;
  /** UTC start of the window; the epoch for `total`. */
  start: Date;
  /** When the window is over (null for `total`): counters may be forgotten some time after. */
  end: Date | null;
}

const DAY_MS = 86_400_000;

export function isQuotaPeriod(value: unknown): value is QuotaPeriod {
  return typeof value === 'string' && (QUOTA_PERIODS as readonly string[]).includes(value);
}

/** The window of `period` that contains `at`. */
export function windowOf(period: QuotaPeriod, at: Date): QuotaWindow {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  switch (period) {
    case 'day': {
      const start = new Date(Date.UTC(y, m, at.getUTCDate()));
      return { period, start, end: new Date(start.getTime() + DAY_MS) };
    }
    case 'month':
      return { period, start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
    case 'total':
      return { period, start: new Date(0), end: null };
  }
}

/**
 * The windows every request is counted in. Usage goes into all three, so that `tokens_used` is right
 * whatever period the key has now, even after its period was changed.
 */
export function windowsAt(at: Date): QuotaWindow[] {
  return QUOTA_PERIODS.map((period) => windowOf(period, at));
}

/** Stable text form of a window, e.g. `day:2025-06-01`, `month:2025-06-01`, `total`. */
export function windowId(window: QuotaWindow): string {
  return window.period === 'total' ? 'total' : `${window.period}:${window.start.toISOString().slice(0, 10)}`;
}
