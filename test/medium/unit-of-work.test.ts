/**
 * The unit of work on a real database: Transactions commits what the work wrote when it resolves and rolls it
 * back when it throws; a repository refuses a handle Transactions did not open, and without one it runs on the pool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

class ProbeRepository extends TableRepository {
  constructor(dataSource: DataSource) {
    super(dataSource);
  }
  async create(uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query('CREATE TABLE IF NOT EXISTS uow_probe (n int)');
  }
  async add(n: number, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query('INSERT INTO uow_probe (n) VALUES ($1)', [n]);
  }
  async all(uow?: UnitOfWork): Promise<number[]> {
    const rows: { n: number }[] = await this.manager(uow).query('SELECT n FROM uow_probe ORDER BY n');
    return rows.map((r) => r.n);
  }
}

describe('unit of work', () => {
  let db: MediumDatabase;
  let probe: ProbeRepository;
  before(async () => {
    db = await openMediumDatabase();
    probe = new ProbeRepository(db.dataSource);
    await probe.create();
  });
  after(() => db?.close());

  it('commits the work when it resolves, and its reads see its own writes', async () => {
    const seen = await db.transactions.run(async (uow) => {
      await probe.add(1, uow);
      return probe.all(uow);
    });
    assert.deepEqual(seen, [1]);
    assert.deepEqual(await probe.all(), [1]);
  });

  it('rolls the work back when it throws', async () => {
    await assert.rejects(
      db.transactions.run(async (uow) => {
        await probe.add(2, uow);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await probe.all(), [1]);
  });

  it('refuses a handle that Transactions did not open', async () => {
    await assert.rejects(probe.add(3, {} as UnitOfWork), /unit of work that Transactions did not open/);
    assert.deepEqual(await probe.all(), [1]);
  });
});
