/**
 * PlatformStats around a mocked stats read model and spend cache (Nest testing module, no database): spend windows
 * end at `now`, money is rounded to micro-dollars, and the keys closest to their limit count the larger of
 * OpenRouter's figure and the recorded one, ordered by the share left, ten at most.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { KeySpendCache } from '#libs/openrouter';
import { UsageRollupRepository } from '#libs/usage';
import { PlatformStats } from './platform-stats.service';
import { LimitedKeyRow, PlatformCounts, PlatformStatsRepository } from './read-model/platform-stats.repository';

const counts: PlatformCounts = {
  users: 3,
  tenants: 2,
  api_keys_active: 4,
  openrouter_keys_active: 2,
  openrouter_keys_auto_renewed: 1,
  renewals_last_24h: 1,
  provisioning_failures_last_24h: 0,
};

const key = (n: number, limit: number, recorded: number): LimitedKeyRow => ({
  user_id: `u${n}`,
  email: `u${n}@example.com`,
  label: null,
  upstream_hash: `h${n}`,
  spending_limit: String(limit),
  recorded: String(recorded),
});

async function build(keys: LimitedKeyRow[], upstream: Record<string, number> = {}) {
  const windows: [Date, Date][] = [];
  const repository = {
    counts: async () => counts,
    spendByTenant: async (top: number) => {
      assert.equal(top, 10);
      return [{ tenant_id: 't1', name: 'One', slug: 'one', requests: '7', cost: '0.0000014' }];
    },
    limitedKeysWithRecordedSpend: async () => keys,
  };
  const rollups = {
    platformSpend: async ({ from, to }: { from: Date; to: Date }) => {
      windows.push([from, to]);
      return { requests: windows.length === 1 ? '3' : '0', cost: windows.length === 1 ? '1.23456789' : '0' };
    },
  };
  const spend = { peek: (hash: string) => (hash in upstream ? { usage: upstream[hash] } : null) };
  const moduleRef = await Test.createTestingModule({
    providers: [
      PlatformStats,
      { provide: PlatformStatsRepository, useValue: repository },
      { provide: UsageRollupRepository, useValue: rollups },
      { provide: KeySpendCache, useValue: spend },
    ],
  }).compile();
  return { stats: moduleRef.get(PlatformStats), windows };
}

describe('PlatformStats', () => {
  it('reports the counts, and the spend of the 24 hours and 30 days up to now, in micro-dollars', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const { stats, windows } = await build([]);
    const result = await stats.collect(now);
    assert.equal(result.users, 3);
    assert.equal(result.provisioning_failures_last_24h, 0);
    assert.deepEqual(
      windows.map(([from, to]) => [from.toISOString(), to.toISOString()]),
      [
        ['2026-02-28T12:00:00.000Z', '2026-03-01T12:00:00.000Z'],
        ['2026-01-30T12:00:00.000Z', '2026-03-01T12:00:00.000Z'],
      ],
    );
    assert.equal(result.spend_last_24h, 1.234568);
    assert.equal(result.spend_last_30d, 0);
    assert.deepEqual(result.spend_by_tenant, [
      { tenant_id: 't1', name: 'One', slug: 'one', requests: 7, cost: 0.000001 },
    ]);
  });

  it("counts OpenRouter's usage when it is at least the recorded one, else the recorded one", async () => {
    const { stats } = await build([key(1, 10, 2), key(2, 10, 6)], { h1: 5, h2: 4 });
    const keys = (await stats.collect()).keys_closest_to_limit;
    assert.deepEqual(
      keys.map((k) => [k.user_id, k.usage, k.limit_remaining, k.source]),
      [
        ['u2', 6, 4, 'recorded'],
        ['u1', 5, 5, 'openrouter'],
      ],
    );
  });

  it('orders keys by the share of their limit left, never below zero, and lists ten', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => key(i, 100, i * 5));
    rows.push(key(99, 1, 3));
    const { stats } = await build(rows);
    const keys = (await stats.collect()).keys_closest_to_limit;
    assert.equal(keys.length, 10);
    assert.equal(keys[0].user_id, 'u99');
    assert.equal(keys[0].limit_remaining, 0);
    assert.deepEqual(
      keys.slice(1, 4).map((k) => k.user_id),
      ['u11', 'u10', 'u9'],
    );
  });
});
