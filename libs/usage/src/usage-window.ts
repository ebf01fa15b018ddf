import type { RollupGranularity } from './usage-rollup.sql';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** Where a piece of a report window is read from: the ledger, or the rollups of a granularity. */
export type WindowSource = 'ledger' | RollupGranularity;

/** A range read from one source and added to the report (sign 1) or taken away from it (sign -1). */
export interface WindowPiece {
  source: WindowSource;
  range: TimeRange;
  sign: 1 | -1;
}

export const floorTo = (at: Date, unitMs: number) => new Date(Math.floor(at.getTime() / unitMs) * unitMs);
export const ceilTo = (at: Date, unitMs: number) => new Date(Math.ceil(at.getTime() / unitMs) * unitMs);

/**
 * Splits [from, to) into pieces whose signed sum is exactly the window: whole UTC days from the day rollups, whole
 * hours from the hour rollups, and less than an hour from the ledger. A partial unit at an edge is read the cheaper
 * way: its inside part from the finer source, or the whole unit minus its outside part (a partial day is the day's
 * row minus the hours outside the window). The rows read stay bounded whatever the window: about one per group
 * and day, 24 per group and hour at most, and at most an hour of ledger (half an hour per edge).
 */
export function splitWindow({ from, to }: TimeRange): WindowPiece[] {
  const pieces: WindowPiece[] = [];
  const hours = cover({ from, to }, HOUR_MS, 'ledger', pieces);
  if (hours) {
    const days = cover(hours, DAY_MS, 'hour', pieces);
    if (days) pieces.push({ source: 'day', range: days, sign: 1 });
  }
  return pieces;
}

/**
 * Covers `window` with whole units of `unitMs` plus pieces of the finer source (pushed to `pieces`, signed).
 * Returns the whole units' range, or null when none is read.
 */
function cover(window: TimeRange, unitMs: number, finer: WindowSource, pieces: WindowPiece[]): TimeRange | null {
  const add = (from: Date, to: Date, sign: 1 | -1) => {
    if (from.getTime() < to.getTime()) pieces.push({ source: finer, range: { from, to }, sign });
  };
  const { from, to } = window;
  const lo = floorTo(from, unitMs);
  const hi = ceilTo(to, unitMs);
  const ms = (a: Date, b: Date) => b.getTime() - a.getTime();
  if (ms(lo, hi) === unitMs && (ms(lo, from) > 0 || ms(to, hi) > 0)) {
    // Within one unit: the inside directly, or the unit minus both sides.
    if (ms(from, to) <= unitMs - ms(from, to)) {
      add(from, to, 1);
      return null;
    }
    add(lo, from, -1);
    add(to, hi, -1);
    return { from: lo, to: hi };
  }
  let start = from;
  if (ms(lo, from) > 0) {
    const next = ceilTo(from, unitMs);
    if (ms(from, next) <= ms(lo, from)) {
      add(from, next, 1);
      start = next;
    } else {
      add(lo, from, -1);
      start = lo;
    }
  }
  let end = to;
  if (ms(to, hi) > 0) {
    const prev = floorTo(to, unitMs);
    if (ms(prev, to) <= ms(to, hi)) {
      add(prev, to, 1);
      end = prev;
    } else {
      add(to, hi, -1);
      end = hi;
    }
  }
  return start.getTime() < end.getTime() ? { from: start, to: end } : null;
}
