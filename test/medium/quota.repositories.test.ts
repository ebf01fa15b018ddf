/**
 * The quota lib's repositories on a real database: the counters (a reservation granted only under the quota, a
 * batch added in one statement, reads of rows that do not exist as 0, pruning) and the journal marks (only forward,
 * and written with the counters or not at all).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JournalMarkRepository } from '../../libs/quota/src/journal-mark.repository';
import { QuotaCounterRepository } from '../../libs/quota/src/quota-counter.repository';
import { windowOf, windowsAt } from '../../libs/quota/src/quota-period';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

describe('quota repositories', () => {
  let db: MediumDatabase;
  let counters: QuotaCounterRepository;
  let marks: JournalMarkRepository;

  before(async () => {
    db = await openMediumDatabase();
    counters = new QuotaCounterRepository(db.dataSource);
    marks = new JournalMarkRepository(db.dataSource);
  });
  after(() => db?.close());

  const day = () => windowOf('day', new Date());
  const reserve = (apiKeyId: string, quota: number, tokens: number) =>
    counters.reserveTokens({ apiKeyId, window: day(), quota, tokens, reservationId: randomUUID() });

  describe('QuotaCounterRepository', () => {
    it('reserveTokens grants while settled plus reserved stays below the quota, and answers the settled tokens', async () => {
      const key = randomUUID();
      assert.equal(await reserve(key, 100, 60), 0);
      assert.equal(await reserve(key, 100, 30), 0);
      assert.equal(await reserve(key, 100, 10), 0, '90 reserved is below 100: granted, taking it to 100');
      assert.equal(await reserve(key, 100, 1), null, 'settled plus reserved has reached the quota');
    });

    it('write adds tokens and spend to key and tenant rows, and releases reservations', async () => {
      const key = randomUUID();
      const tenant = randomUUID();
      const w = day();
      assert.equal(await reserve(key, 100, 80), 0);
      await counters.write(
        [{ apiKeyId: key, window: w, used: 30, spentMicros: 500, release: 80 }],
        [{ tenantId: tenant, window: w, spentMicros: 500 }],
      );
      await counters.write(
        [{ apiKeyId: key, window: w, used: 5, spentMicros: 1, release: 0 }],
        [{ tenantId: tenant, window: w, spentMicros: 1 }],
      );
      assert.deepEqual(await counters.keyCounters([{ apiKeyId: key, window: w }]), [{ used: 35, spentMicros: 501 }]);
      assert.deepEqual(await counters.tenantSpent([{ tenantId: tenant, window: w }]), [501]);
      // The 80 reserved are released: 35 settled + 64 fits under 100.
      assert.equal(await reserve(key, 100, 64), 35);
    });

    it('reads rows that do not exist as 0, in the order asked', async () => {
      const key = randomUUID();
      const w = day();
      const total = windowOf('total', new Date());
      await counters.write([{ apiKeyId: key, window: total, used: 9, spentMicros: 0, release: 0 }], []);
      assert.deepEqual(
        await counters.keyCounters([
          { apiKeyId: key, window: w },
          { apiKeyId: key, window: total },
        ]),
        [
          { used: 0, spentMicros: 0 },
          { used: 9, spentMicros: 0 },
        ],
      );
      assert.deepEqual(await counters.tenantSpent([{ tenantId: randomUUID(), window: w }]), [0]);
      assert.deepEqual(await counters.keyCounters([]), []);
      assert.deepEqual(await counters.tenantSpent([]), []);
    });

    it('write skips deltas that add nothing', async () => {
      const key = randomUUID();
      const tenant = randomUUID();
      const w = day();
      await counters.write(
        [{ apiKeyId: key, window: w, used: 0, spentMicros: 0, release: 0 }],
        [{ tenantId: tenant, window: w, spentMicros: 0 }],
      );
      const rows: unknown[] = await db.dataSource.query(
        `SELECT 1 FROM quota_counters WHERE api_key_id = $1 UNION ALL SELECT 1 FROM tenant_spend_counters WHERE tenant_id = $2`,
        [key, tenant],
      );
      assert.equal(rows.length, 0);
    });

    it('prune forgets day and month rows long over, never total ones', async () => {
      const key = randomUUID();
      const tenant = randomUUID();
      const old = windowsAt(new Date(Date.now() - 100 * 86_400_000));
      await counters.write(
        old.map((window) => ({ apiKeyId: key, window, used: 1, spentMicros: 1, release: 0 })),
        old.map((window) => ({ tenantId: tenant, window, spentMicros: 1 })),
      );
      assert.ok((await counters.prune(70)) >= 4);
      assert.deepEqual(
        (await counters.keyCounters(old.map((window) => ({ apiKeyId: key, window })))).map((c) => c.used),
        [0, 0, 1],
      );
      assert.deepEqual(await counters.tenantSpent(old.map((window) => ({ tenantId: tenant, window }))), [0, 0, 1]);
    });

    it("write records the journal's marks with the counters, and neither when the counters fail", async () => {
      const key = randomUUID();
      const w = day();
      const journal = `j-${randomUUID()}`;
      await counters.write(
        [{ apiKeyId: key, window: w, used: 3, spentMicros: 0, release: 0 }],
        [],
        [{ journal, channel: 'quota', position: 7 }],
      );
      assert.equal(await counters.journalMark(journal, 'quota'), 7);
      // A write the table refuses (tokens below zero): the mark does not move either.
      await assert.rejects(
        counters.write(
          [{ apiKeyId: key, window: w, used: -10, spentMicros: 1, release: 0 }],
          [],
          [{ journal, channel: 'quota', position: 9 }],
        ),
      );
      assert.equal(await counters.journalMark(journal, 'quota'), 7);
      assert.deepEqual(await counters.keyCounters([{ apiKeyId: key, window: w }]), [{ used: 3, spentMicros: 0 }]);
      // Marks alone are written too.
      await counters.write([], [], [{ journal, channel: 'quota', position: 8 }]);
      assert.equal(await counters.journalMark(journal, 'quota'), 8);
    });
  });

  describe('JournalMarkRepository', () => {
    it('advance moves a channel forward only; position is 0 for a channel never marked', async () => {
      const journal = `j-${randomUUID()}`;
      assert.equal(await marks.position(journal, 'quota'), 0);
      await db.transactions.run((uow) =>
        marks.advance(uow, [
          { journal, channel: 'quota', position: 5 },
          { journal, channel: 'usage', position: 2 },
        ]),
      );
      await db.transactions.run((uow) => marks.advance(uow, [{ journal, channel: 'quota', position: 3 }]));
      assert.equal(await marks.position(journal, 'quota'), 5);
      assert.equal(await marks.position(journal, 'usage'), 2);
      await db.transactions.run((uow) => marks.advance(uow, [{ journal, channel: 'quota', position: 11 }]));
      assert.equal(await marks.position(journal, 'quota'), 11);
    });

    it('a mark written in a transaction that rolls back is not kept', async () => {
      const journal = `j-${randomUUID()}`;
      await assert.rejects(
        db.transactions.run(async (uow) => {
          await marks.advance(uow, [{ journal, channel: 'quota', position: 4 }]);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.equal(await marks.position(journal, 'quota'), 0);
    });
  });
});
