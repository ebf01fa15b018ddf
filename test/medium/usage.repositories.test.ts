/**
 * The usage repositories on a real database: the ledger's batch insert (idempotent by id, each record added to the
 * rollups once), a tenant's window report (equal to the ledger's own sums, and blind to other tenants), the rebuild's
 * statements, retention's prune batch, and the ledger's "complete from" mark.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UsageRecordRepository, type UsageRecord } from '#libs/gateway';
import { UsageLedgerStateRepository, UsageRollupRepository } from '#libs/usage';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';
import { usageRecord } from '../support/usage-records';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.UTC(2026, 2, 10);

function ledgerRecord(tenantId: string, at: number, fields: Partial<UsageRecord> = {}): UsageRecord & { id: string } {
  return { id: randomUUID(), ...usageRecord(tenantId, new Date(BASE + at), { model: 'm1', latencyMs: 3, ...fields }) };
}

describe('usage repositories', () => {
  let db: MediumDatabase;
  let records: UsageRecordRepository;
  let rollups: UsageRollupRepository;
  let state: UsageLedgerStateRepository;

  const count = async (sql: string, params: unknown[]) => Number((await db.dataSource.query(sql, params))[0].n);
  const rollupSum = (tenantId: string, granularity: 'hour' | 'day') =>
    count(`SELECT coalesce(sum(requests), 0) AS n FROM usage_rollups WHERE tenant_id = $1 AND granularity = $2`, [
      tenantId,
      granularity,
    ]);

  before(async () => {
    db = await openMediumDatabase();
    records = new UsageRecordRepository(db.dataSource);
    rollups = new UsageRollupRepository(db.dataSource);
    state = new UsageLedgerStateRepository(db.dataSource);
  });
  after(() => db?.close());

  it('inserts a batch idempotently by id, and adds each inserted record to the hour and day rollups once', async () => {
    const tenantA = randomUUID();
    const tenantB = randomUUID();
    const batch = [
      ledgerRecord(tenantA, HOUR),
      ledgerRecord(tenantA, HOUR + 60_000, { model: 'm2', cost: null }),
      ledgerRecord(tenantB, 2 * HOUR),
    ];
    await records.insertBatch(batch);
    // Retried, with one new record: only the new one is written and counted.
    await records.insertBatch([...batch, ledgerRecord(tenantA, 3 * HOUR)]);
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE tenant_id = $1`, [tenantA]), 3);
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE tenant_id = $1`, [tenantB]), 1);
    assert.deepEqual([await rollupSum(tenantA, 'hour'), await rollupSum(tenantA, 'day')], [3, 3]);
    assert.deepEqual([await rollupSum(tenantB, 'hour'), await rollupSum(tenantB, 'day')], [1, 1]);
  });

  it("reports a tenant's window as the ledger sums it, whole, partial and cancelled buckets alike", async () => {
    const tenantId = randomUUID();
    await records.insertBatch([
      ledgerRecord(tenantId, 30 * 60_000, { model: 'early' }), // before the window, in its first day
      ledgerRecord(tenantId, 2 * HOUR + 40 * 60_000, { promptTokens: 7, totalTokens: 12 }),
      ledgerRecord(tenantId, DAY + 5 * HOUR, { model: 'm2', cost: 0.25 }),
      ledgerRecord(tenantId, DAY + 20 * HOUR + 10 * 60_000, { cost: null }),
      ledgerRecord(tenantId, DAY + 20 * HOUR + 50 * 60_000, { model: 'late' }), // after the window
    ]);
    const window = {
      from: new Date(BASE + 2 * HOUR + 20 * 60_000),
      to: new Date(BASE + DAY + 20 * HOUR + 40 * 60_000),
    };
    const byModel = await rollups.forTenant(tenantId).report('model', window);
    assert.deepEqual(
      byModel.groups.map((g) => [g.key, Number(g.requests), Number(g.prompt_tokens), Number(g.cost)]),
      [
        ['m1', 2, 17, 0.0001],
        ['m2', 1, 10, 0.25],
      ],
    );
    assert.deepEqual([byModel.totals?.requests, byModel.totals?.total_tokens].map(Number), [3, 12 + 15 + 15]);
    const byDay = await rollups.forTenant(tenantId).report('day', window);
    assert.deepEqual(
      byDay.groups.map((g) => [g.key, Number(g.requests)]),
      [
        ['2026-03-10', 1],
        ['2026-03-11', 2],
      ],
    );
  });

  it("keeps tenants apart: a tenant's view reads none of another tenant's usage", async () => {
    const tenantA = randomUUID();
    const tenantB = randomUUID();
    await records.insertBatch([ledgerRecord(tenantA, 2 * DAY + HOUR), ledgerRecord(tenantB, 2 * DAY + HOUR)]);
    await records.insertBatch([ledgerRecord(tenantB, 2 * DAY + 2 * HOUR + 60_000, { model: 'theirs' })]);
    const window = { from: new Date(BASE + 2 * DAY), to: new Date(BASE + 3 * DAY - 1) };
    const a = await rollups.forTenant(tenantA).report('model', window);
    assert.deepEqual(
      a.groups.map((g) => [g.key, Number(g.requests)]),
      [['m1', 1]],
    );
    assert.equal(Number(a.totals?.requests), 1);
    const stranger = await rollups.forTenant(randomUUID()).report('model', window);
    assert.deepEqual([stranger.groups, Number(stranger.totals?.requests ?? 0)], [[], 0]);
    assert.throws(() => rollups.forTenant(''));
  });

  it("rebuilds a window's rollups from the ledger, for every tenant", async () => {
    const tenantId = randomUUID();
    const day = { from: new Date(BASE + 10 * DAY), to: new Date(BASE + 11 * DAY) };
    await records.insertBatch([ledgerRecord(tenantId, 10 * DAY + HOUR), ledgerRecord(tenantId, 10 * DAY + 2 * HOUR)]);
    await db.dataSource.query(`UPDATE usage_rollups SET requests = 99 WHERE tenant_id = $1`, [tenantId]);
    const written = await db.transactions.run(async (uow) => {
      await rollups.lockForRebuild(uow);
      await rollups.deleteRange(day, uow);
      return rollups.writeFromLedger(day, uow);
    });
    assert.equal(written.records, 2);
    assert.equal(written.rollups, 3); // two hours and their day
    assert.deepEqual([await rollupSum(tenantId, 'hour'), await rollupSum(tenantId, 'day')], [2, 2]);
    assert.ok((await rollups.firstLedgerRecordAt())! <= new Date(BASE + HOUR));
  });

  it("prunes every tenant's records before the cutoff, a batch at a time, and leaves the rollups", async () => {
    const tenantA = randomUUID();
    const tenantB = randomUUID();
    const old = -30 * DAY;
    await records.insertBatch([
      ...Array.from({ length: 5 }, (_, i) => ledgerRecord(tenantA, old + i * HOUR)),
      ...Array.from({ length: 2 }, (_, i) => ledgerRecord(tenantB, old + i * HOUR)),
    ]);
    const cutoff = new Date(BASE - 20 * DAY);
    assert.equal(await records.pruneBatch(cutoff, 4), 4);
    assert.equal(await records.pruneBatch(cutoff, 4), 3);
    assert.equal(await records.pruneBatch(cutoff, 4), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE created_at < $1`, [cutoff]), 0);
    assert.equal((await count(`SELECT count(*) AS n FROM usage_records WHERE created_at >= $1`, [cutoff])) > 0, true);
    assert.deepEqual([await rollupSum(tenantA, 'day'), await rollupSum(tenantB, 'day')], [5, 2]);
  });

  it('moves the ledger\'s "complete from" mark forward only', async () => {
    assert.equal(await state.completeFrom(), null);
    const first = new Date(BASE - 20 * DAY);
    await state.advanceTo(first);
    await state.advanceTo(new Date(BASE - 40 * DAY));
    assert.deepEqual(await state.completeFrom(), first);
    await db.transactions.run(async (uow) => {
      await rollups.lockAgainstRebuild(uow);
      await state.advanceTo(new Date(BASE - 19 * DAY), uow);
    });
    assert.deepEqual(await state.completeFrom(), new Date(BASE - 19 * DAY));
  });
});
