import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { OpenRouterClient } from '../client/openrouter.client';
import type { UpstreamKey } from '../client/openrouter.types';
import { KeySpendCache } from './key-spend.cache';

/** A client whose GET /keys/{hash} answers are released by the test, one by one. */
function stubClient() {
  const pending: { hash: string; resolve: (k: UpstreamKey) => void; reject: (e: Error) => void }[] = [];
  const client = {
    provisioningConfigured: true,
    getKey: (hash: string) => new Promise<UpstreamKey>((resolve, reject) => pending.push({ hash, resolve, reject })),
  };
  const key = (usage: number): UpstreamKey => ({
    hash: 'h1',
    name: 'n',
    label: null,
    disabled: false,
    limit: 15,
    limitRemaining: 15 - usage,
    limitReset: null,
    usage,
    usageDaily: usage,
    usageWeekly: usage,
    usageMonthly: usage,
    createdAt: null,
    updatedAt: null,
  });
  return { client: client as unknown as OpenRouterClient, pending, key };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('KeySpendCache', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('answers at once, reads once per key however many ask, then serves the value for a minute', async () => {
    const { client, pending, key } = stubClient();
    const cache = new KeySpendCache(client);
    assert.equal(cache.peek('h1'), null);
    assert.equal(cache.peek('h1'), null);
    assert.equal(pending.length, 1, 'single flight');
    pending.shift()!.resolve(key(0.42));
    await settle();
    assert.deepEqual(cache.peek('h1'), {
      usage: 0.42,
      usageDaily: 0.42,
      usageWeekly: 0.42,
      usageMonthly: 0.42,
      limit: 15,
      limitRemaining: 14.58,
    });
    mock.timers.tick(59_000);
    cache.peek('h1');
    assert.equal(pending.length, 0, 'fresh: no read');
  });

  it('keeps the last value while OpenRouter fails, asks again at most once a minute, forgets it after 15 minutes', async () => {
    const { client, pending, key } = stubClient();
    const cache = new KeySpendCache(client);
    cache.peek('h1');
    pending.shift()!.resolve(key(1));
    await settle();
    mock.timers.tick(61_000);
    assert.equal(cache.peek('h1')?.usage, 1, 'stale value served while refreshing');
    pending.shift()!.reject(new Error('down'));
    await settle();
    assert.equal(cache.peek('h1')?.usage, 1, 'stale-if-error');
    assert.equal(pending.length, 0, 'a failure is not retried by the next request');
    mock.timers.tick(15 * 60_000);
    assert.equal(cache.peek('h1'), null, 'too old to show');
  });

  it('answers null without a hash or a provisioning key, and never asks then', () => {
    const { client, pending } = stubClient();
    const cache = new KeySpendCache(client);
    assert.equal(cache.peek(null), null);
    (client as unknown as { provisioningConfigured: boolean }).provisioningConfigured = false;
    assert.equal(cache.peek('h1'), null);
    assert.equal(pending.length, 0);
  });
});
