/** Unit tests of the throttler storages: fixed windows in process and in Redis (one script round trip), and the fallback. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { MemoryThrottlerStorage } from '../libs/rate-limit/src/memory-throttler.storage';
import {
  FIXED_WINDOW_SCRIPT,
  RATE_LIMIT_KEY_PREFIX,
  RedisThrottlerStorage,
} from '../libs/rate-limit/src/redis-throttler.storage';
import { redisAvailable } from './support/app';

const MINUTE = 60_000;
const uniqueKey = () => `test-${randomBytes(6).toString('hex')}`;

describe('MemoryThrottlerStorage', () => {
  it('counts hits in a fixed window and blocks beyond the limit until the window ends', async () => {
    const storage = new MemoryThrottlerStorage();
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await storage.increment('k', MINUTE, 5, 0, 'api_key'));
    assert.deepEqual(
      results.map((r) => r.totalHits),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(
      results.map((r) => r.isBlocked),
      [false, false, false, false, false, true, true, true],
    );
    assert.ok(results.every((r) => r.timeToExpire > 0 && r.timeToExpire <= 60));
    assert.ok(results.slice(5).every((r) => r.timeToBlockExpire > 0 && r.timeToBlockExpire <= 60));
    assert.ok(results.slice(0, 5).every((r) => r.timeToBlockExpire === 0));
    storage.onModuleDestroy();
  });

  it('keeps keys and throttlers apart, and starts a new window after the old one', async () => {
    const storage = new MemoryThrottlerStorage();
    await storage.increment('a', 200, 1, 0, 'api_key');
    assert.equal((await storage.increment('b', 200, 1, 0, 'api_key')).isBlocked, false, 'another key');
    assert.equal((await storage.increment('a', 200, 1, 0, 'default')).isBlocked, false, 'another throttler');
    assert.equal((await storage.increment('a', 200, 1, 0, 'api_key')).isBlocked, true);
    await sleep(250);
    const fresh = await storage.increment('a', 200, 1, 0, 'api_key');
    assert.deepEqual([fresh.totalHits, fresh.isBlocked], [1, false]);
    storage.sweep(Date.now() + 1000);
    assert.equal(storage.size, 0, 'expired windows are swept');
    storage.onModuleDestroy();
  });

  it('extends the window by blockDuration when the limit is first exceeded', async () => {
    const storage = new MemoryThrottlerStorage();
    for (let i = 0; i < 2; i++) await storage.increment('k', 1000, 2, 0, 'default');
    const blocked = await storage.increment('k', 1000, 2, 30_000, 'default');
    assert.equal(blocked.isBlocked, true);
    assert.ok(blocked.timeToBlockExpire >= 29, `blocked for blockDuration (${blocked.timeToBlockExpire} s)`);
    storage.onModuleDestroy();
  });

  it('keeps one entry per key however high the limit (constant cost per hit)', async () => {
    const storage = new MemoryThrottlerStorage();
    for (let i = 0; i < 100_000; i++) await storage.increment('busy', MINUTE, 1_000_000, 0, 'api_key');
    assert.equal(storage.size, 1);
    assert.equal((await storage.increment('busy', MINUTE, 1_000_000, 0, 'api_key')).totalHits, 100_001);
    storage.onModuleDestroy();
  });
});

describe('RedisThrottlerStorage', { skip: !redisAvailable() && 'TEST_REDIS_URL not set' }, () => {
  const clients: Redis[] = [];
  const connect = async () => {
    const client = new Redis(process.env.TEST_REDIS_URL!, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  after(async () => {
    for (const c of clients) c.disconnect();
  });

  it('is exact across storages sharing Redis (two instances), with the window in Redis', async () => {
    const [a, b] = [
      new RedisThrottlerStorage(await connect(), new MemoryThrottlerStorage()),
      new RedisThrottlerStorage(await connect(), new MemoryThrottlerStorage()),
    ];
    const key = uniqueKey();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment(key, MINUTE, 15, 0, 'api_key')),
    );
    assert.equal(results.filter((r) => !r.isBlocked).length, 15);
    assert.deepEqual(
      results.map((r) => r.totalHits).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const inspector = await connect();
    const ttl = await inspector.pttl(`${RATE_LIMIT_KEY_PREFIX}api_key:${key}`);
    assert.ok(ttl > 50_000 && ttl <= MINUTE, `window expiry set once (${ttl} ms)`);
    await inspector.del(`${RATE_LIMIT_KEY_PREFIX}api_key:${key}`);
  });

  it('sends the hits of one turn on one key in one round trip, each with its own place in the count', async () => {
    const real = await connect();
    let roundTrips = 0;
    const counting = Object.assign(Object.create(real), {
      status: 'ready',
      on: () => counting,
      evalsha: (...args: unknown[]) => {
        roundTrips++;
        return (real as any).evalsha(...args);
      },
      eval: (...args: unknown[]) => {
        roundTrips++;
        return (real as any).eval(...args);
      },
    }) as Redis;
    const storage = new RedisThrottlerStorage(counting, new MemoryThrottlerStorage());
    const [key, other] = [uniqueKey(), uniqueKey()];
    const results = await Promise.all([
      ...Array.from({ length: 30 }, () => storage.increment(key, MINUTE, 12, 0, 'api_key')),
      storage.increment(other, MINUTE, 12, 0, 'api_key'),
    ]);
    const onKey = results.slice(0, 30);
    assert.deepEqual(
      onKey.map((r) => r.totalHits),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.equal(onKey.filter((r) => !r.isBlocked).length, 12, 'exactly the limit admitted');
    assert.equal(results[30].totalHits, 1, 'another key is counted apart');
    // Two keys: two batches (a script call each, plus an EVAL per batch if the script was not loaded yet).
    assert.ok(roundTrips >= 2 && roundTrips <= 4, `${roundTrips} round trips for 31 hits`);
    const next = await storage.increment(key, MINUTE, 12, 0, 'api_key');
    assert.deepEqual([next.totalHits, next.isBlocked], [31, true], 'the next turn continues the count');
  });

  it('extends the window by blockDuration when a batch crosses the limit', async () => {
    const storage = new RedisThrottlerStorage(await connect(), new MemoryThrottlerStorage());
    const key = uniqueKey();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => storage.increment(key, 1000, 3, 20_000, 'default')),
    );
    assert.deepEqual(
      results.map((r) => r.isBlocked),
      [false, false, false, true, true],
    );
    assert.ok(results[4].timeToBlockExpire >= 19, `blocked for blockDuration (${results[4].timeToBlockExpire} s)`);
  });

  it('starts a new window after expiry and extends a window by blockDuration', async () => {
    const storage = new RedisThrottlerStorage(await connect(), new MemoryThrottlerStorage());
    const key = uniqueKey();
    await storage.increment(key, 300, 1, 0, 'default');
    assert.equal((await storage.increment(key, 300, 1, 0, 'default')).isBlocked, true);
    await sleep(400);
    assert.deepEqual((await storage.increment(key, 300, 1, 0, 'default')).totalHits, 1);
    const blocked = await storage.increment(key, 300, 1, 20_000, 'default');
    assert.equal(blocked.isBlocked, true);
    assert.ok(blocked.timeToBlockExpire >= 19, `${blocked.timeToBlockExpire}`);
  });

  it('falls back to EVAL when the server does not know the script (NOSCRIPT), then uses EVALSHA again', async () => {
    const real = await connect();
    const calls: string[] = [];
    let scriptKnown = false;
    const stub = Object.assign(Object.create(real), {
      status: 'ready',
      on: () => stub,
      evalsha: async (...args: unknown[]) => {
        calls.push('evalsha');
        if (!scriptKnown) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return (real as any).evalsha(...args);
      },
      eval: async (...args: unknown[]) => {
        calls.push('eval');
        assert.equal(args[0], FIXED_WINDOW_SCRIPT);
        scriptKnown = true;
        return (real as any).eval(...args);
      },
    }) as Redis;
    const storage = new RedisThrottlerStorage(stub, new MemoryThrottlerStorage());
    const key = uniqueKey();
    assert.equal((await storage.increment(key, MINUTE, 5, 0, 'api_key')).totalHits, 1);
    assert.equal((await storage.increment(key, MINUTE, 5, 0, 'api_key')).totalHits, 2);
    assert.deepEqual(calls, ['evalsha', 'eval', 'evalsha']);
  });

  it('fails open to the in-process counter while Redis is down, and returns to Redis when it is back', async () => {
    const client = await connect();
    const storage = new RedisThrottlerStorage(client, new MemoryThrottlerStorage());
    const key = uniqueKey();
    assert.equal((await storage.increment(key, MINUTE, 3, 0, 'api_key')).totalHits, 1);
    const ended = once(client, 'end');
    client.disconnect(); // as an outage would: commands fail at once
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await storage.increment(key, MINUTE, 3, 0, 'api_key'));
    assert.deepEqual(
      during.map((r) => r.totalHits),
      [1, 2, 3, 4, 5],
      'counted in process meanwhile',
    );
    assert.deepEqual(
      during.map((r) => r.isBlocked),
      [false, false, false, true, true],
      'the limit still holds per instance',
    );
    await ended;
    await client.connect();
    assert.equal((await storage.increment(key, MINUTE, 3, 0, 'api_key')).totalHits, 2, 'back on the Redis counter');
  });
});
