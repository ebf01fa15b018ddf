import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DAY_MS, HOUR_MS, splitWindow, type TimeRange, type WindowPiece } from './usage-window';

const at = (iso: string) => new Date(iso);
const show = (pieces: WindowPiece[]) =>
  pieces.map((p) => `${p.sign < 0 ? '-' : '+'}${p.source} ${p.range.from.toISOString()}..${p.range.to.toISOString()}`);
const length = (pieces: WindowPiece[], source: string) =>
  pieces.filter((p) => p.source === source).reduce((t, p) => t + p.range.to.getTime() - p.range.from.getTime(), 0);

/** How many times the pieces count the instant `t`, with their signs. */
const coverage = (pieces: WindowPiece[], t: number) =>
  pieces.reduce((n, p) => n + (p.range.from.getTime() <= t && t < p.range.to.getTime() ? p.sign : 0), 0);

describe('splitWindow', () => {
  it('reads a partial unit at an edge from inside when that is shorter, else as the whole unit minus the outside', () => {
    const pieces = splitWindow({ from: at('2026-01-01T22:30:00Z'), to: at('2026-01-04T01:15:00Z') });
    assert.deepEqual(show(pieces), [
      '+ledger 2026-01-01T22:30:00.000Z..2026-01-01T23:00:00.000Z',
      '+ledger 2026-01-04T01:00:00.000Z..2026-01-04T01:15:00.000Z',
      '+hour 2026-01-01T23:00:00.000Z..2026-01-02T00:00:00.000Z',
      '+hour 2026-01-04T00:00:00.000Z..2026-01-04T01:00:00.000Z',
      '+day 2026-01-02T00:00:00.000Z..2026-01-04T00:00:00.000Z',
    ]);
    const wide = splitWindow({ from: at('2026-01-01T02:20:00Z'), to: at('2026-01-03T20:40:00Z') });
    assert.deepEqual(show(wide), [
      '-ledger 2026-01-01T02:00:00.000Z..2026-01-01T02:20:00.000Z',
      '-ledger 2026-01-03T20:40:00.000Z..2026-01-03T21:00:00.000Z',
      '-hour 2026-01-01T00:00:00.000Z..2026-01-01T02:00:00.000Z',
      '-hour 2026-01-03T21:00:00.000Z..2026-01-04T00:00:00.000Z',
      '+day 2026-01-01T00:00:00.000Z..2026-01-04T00:00:00.000Z',
    ]);
  });

  it('reads most of one day as the day minus the rest, and a short window within an hour from the ledger only', () => {
    const day = splitWindow({ from: at('2026-01-01T03:00:00Z'), to: at('2026-01-01T23:00:00Z') });
    assert.deepEqual(show(day), [
      '-hour 2026-01-01T00:00:00.000Z..2026-01-01T03:00:00.000Z',
      '-hour 2026-01-01T23:00:00.000Z..2026-01-02T00:00:00.000Z',
      '+day 2026-01-01T00:00:00.000Z..2026-01-02T00:00:00.000Z',
    ]);
    const days = splitWindow({ from: at('2026-01-01T00:00:00Z'), to: at('2026-01-31T00:00:00Z') });
    assert.deepEqual(show(days), ['+day 2026-01-01T00:00:00.000Z..2026-01-31T00:00:00.000Z']);
    const minutes = splitWindow({ from: at('2026-01-01T10:05:00Z'), to: at('2026-01-01T10:25:00Z') });
    assert.deepEqual(show(minutes), ['+ledger 2026-01-01T10:05:00.000Z..2026-01-01T10:25:00.000Z']);
  });

  it('counts every instant of the window once and none outside, reading at most an hour of ledger and 24 hours', () => {
    const instant = fc.integer({ min: 0, max: 40 * DAY_MS });
    const bound = fc.oneof(
      instant,
      instant.map((t) => Math.floor(t / HOUR_MS) * HOUR_MS),
      instant.map((t) => Math.floor(t / DAY_MS) * DAY_MS),
    );
    fc.assert(
      fc.property(bound, bound, (a, b) => {
        fc.pre(a !== b);
        const window: TimeRange = { from: new Date(Math.min(a, b)), to: new Date(Math.max(a, b)) };
        const pieces = splitWindow(window);
        // The signed count is constant between consecutive bounds: check one instant of each stretch.
        const bounds = [window.from, window.to, ...pieces.flatMap((p) => [p.range.from, p.range.to])]
          .map((d) => d.getTime())
          .sort((x, y) => x - y);
        for (const t of [bounds[0] - 1, ...bounds]) {
          const inside = window.from.getTime() <= t && t < window.to.getTime();
          assert.equal(coverage(pieces, t), inside ? 1 : 0, `${new Date(t).toISOString()} ${show(pieces)}`);
        }
        for (const p of pieces) {
          assert.ok(p.range.from < p.range.to);
          const unit = p.source === 'day' ? DAY_MS : p.source === 'hour' ? HOUR_MS : 1;
          assert.equal((p.range.from.getTime() % unit) + (p.range.to.getTime() % unit), 0);
          // Finer pieces lie within one UTC day: a report by day takes their day as a parameter.
          const day = (t: number) => Math.floor(t / DAY_MS);
          if (p.source !== 'day') assert.equal(day(p.range.from.getTime()), day(p.range.to.getTime() - 1));
        }
        assert.ok(length(pieces, 'ledger') <= HOUR_MS);
        assert.ok(length(pieces, 'hour') <= 24 * HOUR_MS);
        assert.ok(pieces.filter((p) => p.source === 'day').length <= 1);
      }),
      { numRuns: 2000 },
    );
  });
});
