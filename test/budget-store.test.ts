/**
 * Spend counters of the quota stores on their own (PostgreSQL, in memory written to PostgreSQL, Redis with
 * TEST_REDIS_URL): settlement counts cost for the key and its tenant in every window, admission refuses at a
 * key's or a tenant's budget exactly, and a token reservation taken in the same admission is not left behind.
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
import { windowOf, windowsAt } from '../libs/quota/src/quota-period';
import { QuotaStore } from '../libs/quota/src/quota.store';
import { RedisQuotaStore } from '../libs/quota/src/redis-quota.store';
import { KeyAndTenantBudgets1764000009000 } from '../migrations/1764000009000-KeyAndTenantBudgets';
import { createTestDatabase, type TestDatabase } from './support/app';

function budgetContract(name: string, store: () => QuotaStore) {
  describe(`${name}: spend and budgets`, () => {
    it('counts cost for the key and its tenant in every window', async () => {
      const [apiKeyId, other, tenantId] = [randomUUID(), randomUUID(), randomUUID()];
      const windows = windowsAt(new Date());
      await store().settle([
        { apiKeyId, windows, tokens: 30, reservation: null, costMicros: 100, tenantId },
        { apiKeyId: other, windows, tokens: 0, reservation: null, costMicros: 250, tenantId },
        { apiKeyId, windows, tokens: 30, reservation: null, costMicros: 100, tenantId: null }, // a carry-over
      ]);
      assert.deepEqual(
        await store().spent(windows.map((window) => ({ kind: 'api_key', id: apiKeyId, window }))),
        [200, 200, 200],
      );
      assert.deepEqual(
        await store().spent(windows.map((window) => ({ kind: 'tenant', id: tenantId, window }))),
        [350, 350, 350],
      );
      assert.deepEqual(await store().used([{ apiKeyId, window: windows[2] }]), [60]);
    });

    it("refuses at the key's budget and at the tenant's, and admits below them", async () => {
      const [apiKeyId, tenantId] = [randomUUID(), randomUUID()];
      const now = new Date();
      const day = windowOf('day', now);
      const month = windowOf('month', now);
      await store().settle([
        { apiKeyId, windows: windowsAt(now), tokens: 1, reservation: null, costMicros: 1000, tenantId },
      ]);
      const admit = (keyLimit: number | null, tenantLimit: number | null) =>
        store().admit({
          apiKeyId,
          reserve: null,
          keyBudget: keyLimit === null ? null : { window: day, limitMicros: keyLimit },
          tenantBudget: tenantLimit === null ? null : { tenantId, window: month, limitMicros: tenantLimit },
        });
      assert.deepEqual(await admit(1001, 1001), { granted: true, used: 0 });
      assert.deepEqual(await admit(1000, null), { granted: false, refusedBy: 'key_budget', used: 1000, release: null });
      const tenant = await admit(null, 1000);
      assert.deepEqual([tenant.granted, !tenant.granted && tenant.refusedBy], [false, 'tenant_budget']);
    });

    it('never leaves a token reservation behind when a budget refuses', async () => {
      const [apiKeyId, tenantId] = [randomUUID(), randomUUID()];
      const now = new Date();
      const total = windowOf('total', now);
      await store().settle([
        { apiKeyId, windows: windowsAt(now), tokens: 0, reservation: null, costMicros: 10, tenantId },
      ]);
      const refused = await store().admit({
        apiKeyId,
        reserve: { window: total, quota: 100, tokens: 100, reservationId: randomUUID() },
        keyBudget: null,
        tenantBudget: { tenantId, window: total, limitMicros: 10 },
      });
      assert.equal(refused.granted, false);
      // The whole quota is free again once anything taken is released.
      if (!refused.granted && refused.release)
        await store().settle([{ apiKeyId, windows: [], tokens: 0, reservation: refused.release }]);
      const next = await store().reserve({
        apiKeyId,
        window: total,
        quota: 100,
        tokens: 100,
        reservationId: randomUUID(),
      });
      assert.equal(next.granted, true);
    });
  });
}

describe('spend counters', () => {
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
    dataSource = await new DataSource(dataSourceOptions(endpoint)).initialize();
    await dataSource.runMigrations();
    pg = new PostgresQuotaStore(dataSource);
  });
  after(async () => {
    await dataSource?.destroy();
    await endpoint?.close();
    await database?.drop();
  });

  budgetContract('PostgreSQL', () => pg);

  describe('in memory, written to PostgreSQL in batches', () => {
    let shared: LocalQuotaStore;
    before(() => {
      shared = new LocalQuotaStore(pg, { flushEveryMs: 3_600_000 });
    });
    budgetContract('in memory', () => shared);

    it('writes key and tenant spend in one flush, and a restarted instance reads it back', async () => {
      const store = new LocalQuotaStore(pg, { flushEveryMs: 3_600_000 });
      const [apiKeyId, tenantId] = [randomUUID(), randomUUID()];
      const windows = windowsAt(new Date());
      await store.settle([{ apiKeyId, windows, tokens: 5, reservation: null, costMicros: 700, tenantId }]);
      const rows = () =>
        dataSource.query(
          `SELECT (SELECT coalesce(sum(spent_micros), 0) FROM quota_counters WHERE api_key_id = $1)::int AS key,
                  (SELECT coalesce(sum(spent_micros), 0) FROM tenant_spend_counters WHERE tenant_id = $2)::int AS tenant`,
          [apiKeyId, tenantId],
        );
      assert.deepEqual(await rows(), [{ key: 0, tenant: 0 }], 'nothing written on the request path');
      await store.flush();
      assert.deepEqual(await rows(), [{ key: 2100, tenant: 2100 }], 'one row per window, three windows');
      const restarted = new LocalQuotaStore(pg, { flushEveryMs: 3_600_000 });
      assert.deepEqual(
        await restarted.spent([
          { kind: 'api_key', id: apiKeyId, window: windows[1] },
          { kind: 'tenant', id: tenantId, window: windows[0] },
        ]),
        [700, 700],
      );
    });

    it('admits request after request exactly until the settled cost reaches the budget', async () => {
      const store = new LocalQuotaStore(pg, { flushEveryMs: 3_600_000 });
      const [apiKeyId, tenantId] = [randomUUID(), randomUUID()];
      const now = new Date();
      const window = windowOf('month', now);
      const admit = () =>
        store.admit({
          apiKeyId,
          reserve: null,
          keyBudget: { window, limitMicros: 1000 },
          tenantBudget: { tenantId, window, limitMicros: 1_000_000 },
        });
      // 300 µ$ a request against 1000: admitted at 0, 300, 600 and 900 spent, refused at 1200.
      let admitted = 0;
      while ((await admit()).granted) {
        admitted++;
        await store.settle([
          { apiKeyId, windows: windowsAt(now), tokens: 1, reservation: null, costMicros: 300, tenantId },
        ]);
        assert.ok(admitted <= 4, 'never past the budget');
      }
      assert.equal(admitted, 4);
      assert.deepEqual(await store.spent([{ kind: 'tenant', id: tenantId, window }]), [1200]);
    });
  });

  it('migration: down() removes the budgets and spend and keeps every token count; up() again starts spend at 0', async () => {
    const apiKeyId = randomUUID();
    const windows = windowsAt(new Date());
    await pg.settle([{ apiKeyId, windows, tokens: 42, reservation: null, costMicros: 500, tenantId: randomUUID() }]);
    const migration = new KeyAndTenantBudgets1764000009000();
    const columns = async () =>
      (
        await dataSource.query(
          `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
            WHERE column_name IN ('budget_usd', 'budget_period', 'spent_micros') ORDER BY 1`,
        )
      ).map((r: { c: string }) => r.c);
    // One connection at a time (the embedded database has one): each step releases its runner.
    const run = async (step: 'up' | 'down') => {
      const runner = dataSource.createQueryRunner();
      try {
        await migration[step](runner);
      } finally {
        await runner.release();
      }
    };
    await run('down');
    assert.deepEqual(await columns(), []);
    assert.equal((await dataSource.query(`SELECT to_regclass('tenant_spend_counters') AS t`))[0].t, null);
    const tokens = await dataSource.query(`SELECT used FROM quota_counters WHERE api_key_id = $1`, [apiKeyId]);
    assert.deepEqual(
      tokens.map((r: { used: string }) => Number(r.used)),
      [42, 42, 42],
    );
    await run('up');
    assert.equal(
      (await columns()).length,
      6,
      'budget_usd and budget_period of keys and tenants, spent_micros of both counters',
    );
    assert.deepEqual(await pg.used([{ apiKeyId, window: windows[2] }]), [42]);
    assert.deepEqual(await pg.spent([{ kind: 'api_key', id: apiKeyId, window: windows[2] }]), [0]);
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
    budgetContract('Redis', () => store);
  });
});
