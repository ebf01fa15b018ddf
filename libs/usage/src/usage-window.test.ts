import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DAY_MS, HOUR_MS, splitWindow, type TimeRange } from './usage-window';

const at = (iso: string) => new Date(iso);
const iso = (parts: TimeRange[]) => parts.map((r) => [r.from.toISOString(), r.to.toISOString()]);

describe('splitWindow', () => {
  it('reads whole days from day rollups, the hours around them from hour rollups, partial hours from the ledger', () => {
    const parts = splitWindow({ from: at('2026-01-01T22:30:00Z'), to: at('2026-01-04T01:15:00Z') });
    assert.deepEqual(iso(parts.ledger), [
      ['2026-01-01T22:30:00.000Z', '2026-01-01T23:00:00.000Z'],
      ['2026-01-04T01:00:00.000Z', '2026-01-04T01:15:00.000Z'],
    ]);
    assert.deepEqual(iso(parts.hour), [
      ['2026-01-01T23:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['2026-01-04T00:00:00.000Z', '2026-01-04T01:00:00.000Z'],
    ]);
    assert.deepEqual(iso(parts.day), [['2026-01-02T00:00:00.000Z', '2026-01-04T00:00:00.000Z']]);
  });

  it('reads a window of bare dates from day rollups only, and one within an hour from the ledger only', () => {
    const days = splitWindow({ from: at('2026-01-01T00:00:00Z'), to: at('2026-01-31T00:00:00Z') });
    assert.deepEqual([days.ledger.length, days.hour.length, days.day.length], [0, 0, 1]);
    const minutes = splitWindow({ from: at('2026-01-01T10:05:00Z'), to: at('2026-01-01T10:55:00Z') });
    assert.deepEqual(iso(minutes.ledger), [['2026-01-01T10:05:00.000Z', '2026-01-01T10:55:00.000Z']]);
    assert.deepEqual([minutes.hour.length, minutes.day.length], [0, 0]);
  });

  it('covers every window exactly once, with aligned rollup pieces and at most two hours of ledger', () => {
    const instant = fc.integer({ min: 0, max: 40 * DAY_MS });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        fc.pre(a !== b);
        const window = { from: new Date(Math.min(a, b)), to: new Date(Math.max(a, b)) };
        const parts = splitWindow(window);
        const all = [...parts.ledger, ...parts.hour, ...parts.day].sort((x, y) => x.from.getTime() - y.from.getTime());
        assert.equal(all[0].from.getTime(), window.from.getTime());
        assert.equal(all.at(-1)!.to.getTime(), window.to.getTime());
        for (let i = 1; i < all.length; i++) assert.equal(all[i].from.getTime(), all[i - 1].to.getTime());
        for (const r of all) assert.ok(r.from < r.to);
        for (const r of parts.hour) assert.equal((r.from.getTime() % HOUR_MS) + (r.to.getTime() % HOUR_MS), 0);
        for (const r of parts.day) assert.equal((r.from.getTime() % DAY_MS) + (r.to.getTime() % DAY_MS), 0);
        const ledgerMs = parts.ledger.reduce((t, r) => t + r.to.getTime() - r.from.getTime(), 0);
        assert.ok(ledgerMs < 2 * HOUR_MS);
        assert.ok(parts.hour.reduce((t, r) => t + r.to.getTime() - r.from.getTime(), 0) <= 46 * HOUR_MS);
      }),
    );
  });
});
