/**
 * KeyLease around a mocked OpenRouterKeyRepository (Nest testing module, no database): the work runs only while
 * the lease is held, the lease is released with the holder's own token even when the work fails, and a busy
 * lease answers with the holder's result instead of running the work. The repository's conditional UPDATE is
 * played by one in-memory owner; the statements themselves are covered in test/medium/openrouter.repositories.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AppConfig } from '#libs/config';
import { KeyLease } from './key-lease';
import { OpenRouterKeyRepository } from './openrouter-key.repository';

const USER = '0b7c4a52-0000-4000-8000-0000000000aa';

/** One user's row: who holds the lease. */
class LeaseRow {
  owner: string | null = null;
  ttls: number[] = [];
  released: string[] = [];

  async takeLease(_userId: string, token: string, ttlMs: number): Promise<boolean> {
    this.ttls.push(ttlMs);
    if (this.owner !== null) return false;
    this.owner = token;
    return true;
  }

  async releaseLease(_userId: string, token: string): Promise<void> {
    this.released.push(token);
    if (this.owner === token) this.owner = null;
  }
}

async function build(row: LeaseRow) {
  const moduleRef = await Test.createTestingModule({
    providers: [
      KeyLease,
      { provide: OpenRouterKeyRepository, useValue: row },
      { provide: AppConfig, useValue: { openRouter: { timeoutMs: 1000 } } },
    ],
  }).compile();
  return moduleRef.get(KeyLease);
}

describe('KeyLease', () => {
  it('runs the work holding the lease, then frees it with its own token', async () => {
    const row = new LeaseRow();
    const lease = await build(row);
    let ownerDuringWork: string | null = null;
    const result = await lease.hold(
      USER,
      async () => {
        ownerDuringWork = row.owner;
        return 'done';
      },
      async () => assert.fail('not busy'),
    );
    assert.equal(result, 'done');
    assert.ok(ownerDuringWork);
    assert.deepEqual(row.released, [ownerDuringWork]);
    assert.equal(row.owner, null);
  });

  it('the lease lasts three upstream timeouts and 5 s: long enough for a read, a create and an update', async () => {
    const row = new LeaseRow();
    await (
      await build(row)
    ).hold(
      USER,
      async () => 1,
      async () => undefined,
    );
    assert.deepEqual(row.ttls, [8000]);
  });

  it('a failing work still frees the lease, and the error reaches the caller', async () => {
    const row = new LeaseRow();
    const lease = await build(row);
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
    assert.equal(row.owner, null);
    assert.equal(row.released.length, 1);
  });

  it("a lease held by someone else: the holder's result, the work (and what it would store) never run", async () => {
    const row = new LeaseRow();
    row.owner = 'other-process:token';
    const lease = await build(row);
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
    assert.equal(row.owner, 'other-process:token');
    assert.deepEqual(row.released, []);
  });

  it('waits while the holder works, then takes the lease once it is free', async () => {
    const row = new LeaseRow();
    row.owner = 'other-process:token';
    const lease = await build(row);
    let asked = 0;
    const result = await lease.hold(
      USER,
      async () => 'mine',
      async () => {
        if (++asked === 2) row.owner = null; // the holder finished without an answer for us
        return undefined;
      },
    );
    assert.equal(result, 'mine');
    assert.equal(asked, 2);
  });

  it('tokens differ between holders, so that one holder cannot release another’s lease', async () => {
    const row = new LeaseRow();
    const lease = await build(row);
    const first = await lease.tryAcquire(USER, 1000);
    assert.ok(first);
    assert.equal(await lease.tryAcquire(USER, 1000), null);
    await lease.release(USER, first);
    const second = await lease.tryAcquire(USER, 1000);
    assert.ok(second);
    assert.notEqual(second, first);
  });
});
