/**
 * The quota counters on their own, against the database the tests run on (embedded PGlite, or PostgreSQL
 * with TEST_DATABASE_URL) and, with TEST_REDIS_URL, Redis: atomic admission under concurrency, settlement
 * into every window, release, lapsed reservations, and the service's rules around the store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { openDatabaseEndpoint, type DatabaseEndpoint } from '#libs/database';
import { dataSourceOptions } from '../libs/database/src/data-source-options';
import { LocalQuotaStore } from '../libs/quota/src/local-quota.store';
import { PostgresQuotaStore } from '../libs/quota/src/postgres-quota.store';
import { QuotaWindow, windowOf, windowsAt } from '../libs/quota/src/quota-period';
import { QuotaSettler } from '../libs/quota/src/quota-settler';
import { QuotaStore } from '../libs/quota/src/quota.store';
import { QuotaService } from '../libs/quota/src/quota.service';
import { RedisQuotaStore } from '../libs/quota/src/redis-quota.store';
import { TokenUsageReader } from '../libs/quota/src/token-usage.reader';
import { createTestDatabase, type TestDatabase } from './support/app';

/** The behaviour every store must have; `store()` is called after `before` hooks ran. */
function storeContract(
  name: string,
  store: () => QuotaStore,
  reservedOf?: (apiKeyId: string, w: QuotaWindow) => Promise<number>,
) {
  describe(`${name}: admission and settlement`, () => {
    it('admits exactly as many concurrent reservations as fit under the quota', async () => {
      const apiKeyId = randomUUID();
      const window = windowOf('day', new Date());
      const results = await Promise.all(
        Array.from({ length: 30 }, () =>
          store().reserve({ apiKeyId, window, quota: 1000, tokens: 100, reservationId: randomUUID() }),
        ),
      );
      assert.equal(results.filter((r) => r.granted).length, 10);
      if (reservedOf) assert.equal(await reservedOf(apiKeyId, window), 1000);
    });

    it('settles real usage into every window and releases the reservation', async () => {
      const apiKeyId = randomUUID();
      const now = new Date();
      const windows = windowsAt(now);
      const window = windowOf('month', now);
      const reservationId = randomUUID();
      assert.equal((await store().reserve({ apiKeyId, window, quota: 100, tokens: 100, reservationId })).granted, true);
      // The reservation holds the room: a second request is refused while the first runs.
      assert.equal(
        (await store().reserve({ apiKeyId, window, quota: 100, tokens: 80, reservationId: randomUUID() })).granted,
        false,
      );
      await store().settle([{ apiKeyId, windows, tokens: 30, reservation: { window, reservationId, tokens: 100 } }]);
      assert.deepEqual(await store().used(windows.map((w) => ({ apiKeyId, window: w }))), [30, 30, 30]);
      if (reservedOf) assert.equal(await reservedOf(apiKeyId, window), 0);
      // 30 used, nothing reserved: admitted again.
      const again = await store().reserve({ apiKeyId, window, quota: 100, tokens: 80, reservationId: randomUUID() });
      assert.deepEqual(again, { granted: true, used: 30 });
    });

    it('refuses once settled usage reaches the quota, and reports it', async () => {
      const apiKeyId = randomUUID();
      const windows = windowsAt(new Date());
      const total = windowOf('total', new Date());
      await store().settle([{ apiKeyId, windows, tokens: 50, reservation: null }]);
      assert.deepEqual(
        await store().reserve({ apiKeyId, window: total, quota: 50, tokens: 1, reservationId: randomUUID() }),
        { granted: false, used: 50 },
      );
      assert.equal(
        (await store().reserve({ apiKeyId, window: total, quota: 51, tokens: 1, reservationId: randomUUID() })).granted,
        true,
      );
    });

    it('applies a batch of settlements touching the same counters', async () => {
      const apiKeyId = randomUUID();
      const windows = windowsAt(new Date());
      const day = windowOf('day', new Date());
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const reservationId of ids)
        await store().reserve({ apiKeyId, window: day, quota: 1000, tokens: 10, reservationId });
      await store().settle(
        ids.map((reservationId, i) => ({
          apiKeyId,
          windows,
          tokens: i + 1,
          reservation: { window: day, reservationId, tokens: 10 },
        })),
      );
      assert.deepEqual(
        await store().used([
          { apiKeyId, window: day },
          { apiKeyId, window: windows[2] },
        ]),
        [6, 6],
      );
      if (reservedOf) assert.equal(await reservedOf(apiKeyId, day), 0);
    });

    it('reads 0 for counters that do not exist', async () => {
      assert.deepEqual(await store().used([{ apiKeyId: randomUUID(), window: windowOf('total', new Date()) }]), [0]);
    });
  });
}

describe('quota stores', () => {
  let database: TestDatabase;
  let endpoint: DatabaseEndpoint;
  let dataSource: DataSource;
  let pg: PostgresQuotaStore;

  before(async () => {
    database = await createTestDatabase();
    endpoint = await openDatabaseEndpoint({
      databaseUrl: database.env.DATABASE_URL,
      dataDir: database.env.DATA_DIR ?? '',
      poolSize: 10,
    });
    // Every migration: the counters' spend columns and tables came after the usage ones.
    dataSource = await new DataSource(dataSourceOptions(endpoint)).initialize();
    await dataSource.runMigrations();
    pg = new PostgresQuotaStore(dataSource);
  });
  after(async () => {
    await dataSource?.destroy();
    await endpoint?.close();
    await database?.drop();
  });

  const reservedPg = async (apiKeyId: string, w: QuotaWindow) => {
    const rows = await dataSource.query(
      `SELECT CASE WHEN reserved_until > now() THEN reserved ELSE 0 END AS r FROM quota_counters WHERE api_key_id = $1 AND period = $2 AND window_start = $3`,
      [apiKeyId, w.period, w.start.toISOString()],
    );
    return Number(rows[0]?.r ?? 0);
  };
  storeContract('PostgreSQL', () => pg, reservedPg);

  describe('PostgreSQL: housekeeping', () => {
    it('lets reservations lapse once none was taken for the reservation lifetime (a crashed instance)', async () => {
      const apiKeyId = randomUUID();
      const window = windowOf('total', new Date());
      assert.equal(
        (await pg.reserve({ apiKeyId, window, quota: 100, tokens: 100, reservationId: randomUUID() })).granted,
        true,
      );
      assert.equal(
        (await pg.reserve({ apiKeyId, window, quota: 100, tokens: 1, reservationId: randomUUID() })).granted,
        false,
      );
      await dataSource.query(
        `UPDATE quota_counters SET reserved_until = now() - interval '1 second' WHERE api_key_id = $1`,
        [apiKeyId],
      );
      assert.equal(
        (await pg.reserve({ apiKeyId, window, quota: 100, tokens: 1, reservationId: randomUUID() })).granted,
        true,
      );
      assert.equal(await reservedPg(apiKeyId, window), 1);
    });

    it('prunes day and month counters long over, never total ones', async () => {
      const apiKeyId = randomUUID();
      const old = new Date(Date.UTC(2020, 0, 15));
      await pg.settle([{ apiKeyId, windows: windowsAt(old), tokens: 5, reservation: null }]);
      await pg.prune(70);
      const rows: { period: string }[] = await dataSource.query(
        `SELECT period FROM quota_counters WHERE api_key_id = $1`,
        [apiKeyId],
      );
      assert.deepEqual(
        rows.map((r) => r.period),
        ['total'],
      );
    });
  });

  describe('in memory, written to PostgreSQL in batches (one instance, no Redis)', () => {
    // Flushed only when asked to here: the timer would fire after the test.
    const local = () => new LocalQuotaStore(pg, { flushEveryMs: 3_600_000 });
    let shared: LocalQuotaStore;
    before(() => {
      shared = local();
    });
    storeContract('in memory', () => shared);

    const rowsOf = async (apiKeyId: string) =>
      (
        await dataSource.query(`SELECT period, used FROM quota_counters WHERE api_key_id = $1 ORDER BY period`, [
          apiKeyId,
        ])
      ).map((r: { period: string; used: string }) => [r.period, Number(r.used)]);

    it('counts settled usage for admissions at once, writes nothing until it flushes, then one row per counter', async () => {
      const store = local();
      const apiKeyId = randomUUID();
      const now = new Date();
      const windows = windowsAt(now);
      const total = windowOf('total', now);
      const first = { window: total, reservationId: randomUUID(), tokens: 50 };
      assert.equal((await store.reserve({ apiKeyId, quota: 100, ...first })).granted, true);
      await store.settle([{ apiKeyId, windows, tokens: 100, reservation: first }]);
      assert.deepEqual(await store.used(windows.map((window) => ({ apiKeyId, window }))), [100, 100, 100]);
      // The quota is used up: refused, though PostgreSQL has not been written yet.
      const second = await store.reserve({ apiKeyId, window: total, quota: 100, tokens: 1, reservationId: 'b' });
      assert.deepEqual(second, { granted: false, used: 100 });
      assert.deepEqual(await rowsOf(apiKeyId), [], 'nothing written on the request path');

      await store.flush();
      assert.deepEqual(await rowsOf(apiKeyId), [
        ['day', 100],
        ['month', 100],
        ['total', 100],
      ]);
      // A restarted instance reads the counters back.
      assert.deepEqual(await local().used(windows.map((window) => ({ apiKeyId, window }))), [100, 100, 100]);
    });

    it('is flushed by the settler drain that shutdown runs', async () => {
      const store = local();
      const service = new QuotaService(store, new QuotaSettler(store));
      const apiKeyId = randomUUID();
      const admitted = await service.admit(apiKeyId, { tokenQuota: 1000, period: 'month' }, 100);
      assert.ok(admitted.granted);
      service.settle(admitted.ticket, { tokens: 42, costUsd: null });
      const settler = (service as unknown as { settler: QuotaSettler }).settler;
      await settler.beforeApplicationShutdown();
      assert.deepEqual(await rowsOf(apiKeyId), [
        ['day', 42],
        ['month', 42],
        ['total', 42],
      ]);
    });
  });

  describe('Redis', { skip: !process.env.TEST_REDIS_URL && 'TEST_REDIS_URL is not set' }, () => {
    let redis: Redis;
    let store: RedisQuotaStore;
    before(async () => {
      redis = new Redis(process.env.TEST_REDIS_URL!, { lazyConnect: true });
      await redis.connect();
      store = new RedisQuotaStore(redis);
    });
    after(async () => {
      await redis?.quit();
    });
    const reservedRedis = async (apiKeyId: string, w: QuotaWindow) => {
      const members = await redis.zrange(
        `umb:quota:{${apiKeyId}}:${w.period === 'total' ? 'total' : `${w.period}:${w.start.toISOString().slice(0, 10)}`}:reserved`,
        0,
        -1,
      );
      return members.reduce((sum, m) => sum + Number(m.split(':').at(-1)), 0);
    };
    storeContract('Redis', () => store, reservedRedis);

    it('gives day counters an expiry and total counters none', async () => {
      const apiKeyId = randomUUID();
      await store.settle([{ apiKeyId, windows: windowsAt(new Date()), tokens: 3, reservation: null }]);
      const day = await redis.ttl(`umb:quota:{${apiKeyId}}:day:${new Date().toISOString().slice(0, 10)}`);
      assert.ok(day > 86_400 && day <= 3 * 86_400, `day ttl ${day}`);
      assert.equal(await redis.ttl(`umb:quota:{${apiKeyId}}:total`), -1);
    });
  });
});

describe('QuotaService', () => {
  /** An in-memory store, to check the service's own rules. */
  class MemoryStore implements QuotaStore {
    readonly kind = 'postgres' as const;
    fail = false;
    reserved: string[] = [];
    settled: unknown[] = [];
    async reserve(input: { reservationId: string; quota: number }) {
      if (this.fail) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
      this.reserved.push(input.reservationId);
      return { granted: true, used: 0 };
    }
    async admit(input: { reserve: { reservationId: string; quota: number } | null }) {
      if (this.fail) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
      if (input.reserve) this.reserved.push(input.reserve.reservationId);
      return { granted: true as const, used: 0 };
    }
    async spent(keys: unknown[]) {
      return keys.map(() => 0);
    }
    async settle(items: unknown[]) {
      this.settled.push(...items);
    }
    async used(keys: unknown[]) {
      return keys.map(() => 7);
    }
  }

  it('skips the store for keys without a quota, refuses a zero quota without I/O, and settles once', async () => {
    const store = new MemoryStore();
    const settler = new QuotaSettler(store);
    const service = new QuotaService(store, settler);
    const open = await service.admit(randomUUID(), { tokenQuota: null, period: 'day' }, 100);
    assert.equal(open.granted, true);
    assert.equal(store.reserved.length, 0);
    const zero = await service.admit(randomUUID(), { tokenQuota: 0, period: 'month' }, 100);
    assert.deepEqual(zero, { granted: false, quota: 0, period: 'month', used: 0 });
    assert.equal(store.reserved.length, 0);

    const limited = await service.admit(randomUUID(), { tokenQuota: 500, period: 'day' }, 100);
    assert.ok(limited.granted);
    service.settle(limited.ticket, { tokens: 42, costUsd: null });
    service.settle(limited.ticket, { tokens: 42, costUsd: null });
    service.release(limited.ticket);
    if (open.granted) service.settle(open.ticket, { tokens: 5, costUsd: null });
    await settler.drain();
    assert.equal(store.settled.length, 2);
    assert.equal((store.settled[0] as { tokens: number }).tokens, 42);
    assert.equal((store.settled[0] as { reservation: { tokens: number } }).reservation.tokens, 100);
  });

  it('admits unchecked (fail open) when the store is down', async () => {
    const store = new MemoryStore();
    store.fail = true;
    const service = new QuotaService(store, new QuotaSettler(store));
    const admission = await service.admit(randomUUID(), { tokenQuota: 10, period: 'total' }, 5);
    assert.ok(admission.granted);
    assert.equal(admission.ticket.reservation, null);
  });

  it('TokenUsageReader writes pending settlements first, then reads each key in its period', async () => {
    const store = new MemoryStore();
    const settler = new QuotaSettler(store);
    const reader = new TokenUsageReader(store, settler);
    settler.add({ apiKeyId: 'a', windows: [], tokens: 1, reservation: null });
    const used = await reader.tokensUsedMany([
      { id: 'a', period: 'day' },
      { id: 'b', period: null },
    ]);
    assert.equal(store.settled.length, 1);
    assert.deepEqual(
      [...used],
      [
        ['a', 7],
        ['b', 7],
      ],
    );
    assert.equal(await reader.tokensUsed('a', 'month'), 7);
  });
});

describe('quota windows', () => {
  it('are the UTC day, the UTC month and all time', () => {
    const at = new Date('2025-12-31T23:59:59.999Z');
    const [day, month, total] = windowsAt(at);
    assert.deepEqual(
      [day.period, day.start.toISOString(), day.end?.toISOString()],
      ['day', '2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    );
    assert.deepEqual(
      [month.period, month.start.toISOString(), month.end?.toISOString()],
      ['month', '2025-12-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    );
    assert.deepEqual([total.period, total.start.getTime(), total.end], ['total', 0, null]);
    assert.equal(windowOf('day', new Date('2026-01-01T00:00:00.000Z')).start.toISOString(), '2026-01-01T00:00:00.000Z');
  });
});
