/**
 * KeyLease around a mocked DataSource (Nest testing module, no database): the work runs only while the
 * lease is held, the lease is released with the holder's own token even when the work fails, and a busy
 * lease answers with the holder's result instead of running the work. KeyLease has no repository: it
 * sends its three statements with DataSource.query, which the mock answers from one in-memory row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { AppConfig } from '#libs/config';
import { KeyLease } from './key-lease';

const USER = '0b7c4a52-0000-4000-8000-0000000000aa';

/** One user's row: who holds the lease. `pgShape`: answer UPDATE … RETURNING as TypeORM does, [rows, count]. */
class LeaseTable {
  owner: string | null = null;
  ttls: string[] = [];
  released: string[] = [];
  constructor(private readonly pgShape = false) {}
  async query(sql: string, params: string[]): Promise<unknown[]> {
    if (sql.startsWith('INSERT')) return [];
    if (sql.includes('SET lease_owner = $2')) {
      this.ttls.push(params[2]);
      if (this.owner !== null) return this.pgShape ? [[], 0] : [];
      this.owner = params[1];
      return this.pgShape ? [[{ user_id: params[0] }], 1] : [{ user_id: params[0] }];
    }
    if (sql.includes('SET lease_owner = NULL')) {
      this.released.push(params[1]);
      if (this.owner === params[1]) this.owner = null;
      return [];
    }
    throw new Error(`unexpected SQL: ${sql}`);
  }
}

async function build(table: LeaseTable) {
  const moduleRef = await Test.createTestingModule({
    providers: [
      KeyLease,
      { provide: getDataSourceToken(), useValue: table },
      { provide: AppConfig, useValue: { openRouter: { timeoutMs: 1000 } } },
    ],
  }).compile();
  return moduleRef.get(KeyLease);
}

describe('KeyLease', () => {
  for (const pgShape of [false, true]) {
    it(`runs the work holding the lease, then frees it (${pgShape ? '[rows, count]' : 'rows'} answers)`, async () => {
      const table = new LeaseTable(pgShape);
      const lease = await build(table);
      let ownerDuringWork: string | null = null;
      const result = await lease.hold(
        USER,
        async () => {
          ownerDuringWork = table.owner;
          return 'done';
        },
        async () => assert.fail('not busy'),
      );
      assert.equal(result, 'done');
      assert.ok(ownerDuringWork);
      assert.deepEqual(table.released, [ownerDuringWork]);
      assert.equal(table.owner, null);
    });
  }

  it('the lease lasts three upstream timeouts and 5 s: long enough for a read, a create and an update', async () => {
    const table = new LeaseTable();
    await (
      await build(table)
    ).hold(
      USER,
      async () => 1,
      async () => undefined,
    );
    assert.deepEqual(table.ttls, ['8000']);
  });

  it('a failing work still frees the lease, and the error reaches the caller', async () => {
    const table = new LeaseTable();
    const lease = await build(table);
    await assert.rejects(
      lease.hold(
        USER,
        async () => {
          throw new Error('upstream down');
        },
        async () => undefined,
      ),
      /upstream down/,
    );
    assert.equal(table.owner, null);
    assert.equal(table.released.length, 1);
  });

  for (const pgShape of [false, true]) {
    it(`held by someone else: the holder's result, the work never run, nothing of theirs freed (${pgShape ? '[rows, count]' : 'rows'} answers)`, async () => {
      const table = new LeaseTable(pgShape);
      table.owner = 'other-process:token';
      const lease = await build(table);
      let ran = false;
      const result = await lease.hold(
        USER,
        async () => {
          ran = true;
          return 'mine';
        },
        async () => 'theirs',
      );
      assert.equal(result, 'theirs');
      assert.equal(ran, false);
      assert.equal(table.owner, 'other-process:token');
      assert.deepEqual(table.released, []);
    });
  }

  it('tokens differ between holders, so that one holder cannot release another’s lease', async () => {
    const table = new LeaseTable();
    const lease = await build(table);
    const first = await lease.tryAcquire(USER, 1000);
    assert.ok(first);
    assert.equal(await lease.tryAcquire(USER, 1000), null);
    await lease.release(USER, first);
    const second = await lease.tryAcquire(USER, 1000);
    assert.ok(second);
    assert.notEqual(second, first);
  });
});
