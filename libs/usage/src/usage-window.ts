import type { RollupGranularity } from './usage-rollup.sql';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** Where each piece of a report window is read from. */
export interface WindowParts {
  /** Pieces shorter than an hour at the window's edges: summed from the ledger (at most two hours of it). */
  ledger: TimeRange[];
  hour: TimeRange[];
  day: TimeRange[];
}

export const floorTo = (at: Date, unitMs: number) => new Date(Math.floor(at.getTime() / unitMs) * unitMs);
export const ceilTo = (at: Date, unitMs: number) => new Date(Math.ceil(at.getTime() / unitMs) * unitMs);

/**
 * Splits [from, to) into whole UTC days (day rollups), the whole hours around them (hour rollups) and the partial
 * hours at the edges (the ledger), so that the sum of the pieces is exactly the ledger's sum over the window while
 * the rows read stay bounded: about one per group and day, 46 per group and hour at most, and two partial hours.
 */
export function splitWindow({ from, to }: TimeRange): WindowParts {
  const parts: WindowParts = { ledger: [], hour: [], day: [] };
  const add = (kind: keyof WindowParts, a: Date, b: Date) => {
    if (a.getTime() < b.getTime()) parts[kind].push({ from: a, to: b });
  };
  const firstHour = ceilTo(from, HOUR_MS);
  const lastHour = floorTo(to, HOUR_MS);
  if (firstHour.getTime() >= lastHour.getTime()) {
    add('ledger', from, to);
    return parts;
  }
  add('ledger', from, firstHour);
  add('ledger', lastHour, to);
  const firstDay = ceilTo(firstHour, DAY_MS);
  const lastDay = floorTo(lastHour, DAY_MS);
  if (firstDay.getTime() >= lastDay.getTime()) {
    add('hour', firstHour, lastHour);
    return parts;
  }
  add('hour', firstHour, firstDay);
  add('hour', lastDay, lastHour);
  add('day', firstDay, lastDay);
  return parts;
}

/** The rollup pieces of `parts` with their granularity, for SQL. */
export function rollupRanges(parts: WindowParts): { granularity: RollupGranularity; range: TimeRange }[] {
  return [
    ...parts.day.map((range) => ({ granularity: 'day' as const, range })),
    ...parts.hour.map((range) => ({ granularity: 'hour' as const, range })),
  ];
}
