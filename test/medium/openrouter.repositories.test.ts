/**
 * The openrouter lib's repositories on a real database: the key rows (lease, disable, a new key, a failed
 * attempt, budget columns, resealing) and the deletion queue (enqueue once, back-off, removal, what is due).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OpenRouterKeyDeletionRepository } from '../../libs/openrouter/src/keys/openrouter-key-deletion.repository';
import { OpenRouterKeyRepository, type NewKeyColumns } from '../../libs/openrouter/src/keys/openrouter-key.repository';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

describe('openrouter repositories', () => {
  let db: MediumDatabase;
  let keys: OpenRouterKeyRepository;
  let deletions: OpenRouterKeyDeletionRepository;

  before(async () => {
    db = await openMediumDatabase();
    keys = new OpenRouterKeyRepository(db.dataSource);
    deletions = new OpenRouterKeyDeletionRepository(db.dataSource);
  });
  after(() => db?.close());

  /** A user row (the keys' foreign key); signed in unless told otherwise. */
  async function user(status = 'active', signedIn = true): Promise<string> {
    const id = randomUUID();
    await db.dataSource.query(`INSERT INTO users (id, clerk_user_id, email, status) VALUES ($1, $2, $3, $4)`, [
      id,
      signedIn ? `clerk_${id}` : null,
      `${id}@example.test`,
      status,
    ]);
    return id;
  }

  const newKey = (hash: string, at = new Date()): NewKeyColumns => ({
    keyEncrypted: `sealed-${hash}`,
    upstreamHash: hash,
    label: `label-${hash}`,
    name: `name-${hash}`,
    status: 'active',
    lastErrorCode: null,
    lastAttemptAt: at,
    keyCreatedAt: at,
    spendingLimit: 7.5,
    budgetPeriod: 'monthly',
    periodStartedAt: new Date('2026-03-01T00:00:00Z'),
    replacedSpendUsd: 2.5,
  });

  describe('OpenRouterKeyRepository', () => {
    it('userMayHoldKey: only an active user who has signed in', async () => {
      assert.equal(await keys.userMayHoldKey(await user()), true);
      assert.equal(await keys.userMayHoldKey(await user('pending', false)), false);
      assert.equal(await keys.userMayHoldKey(await user('deactivated')), false);
      assert.equal(await keys.userMayHoldKey(randomUUID()), false);
    });

    it('takeLease makes the row, lets one holder in, and releaseLease frees only its own token', async () => {
      const id = await user();
      assert.equal(await keys.find(id), null);
      assert.equal(await keys.takeLease(id, 'a', 60_000), true);
      const row = await keys.find(id);
      assert.equal(row?.status, 'none');
      assert.equal(row?.leaseOwner, 'a');
      assert.equal(await keys.takeLease(id, 'b', 60_000), false);
      await keys.releaseLease(id, 'b');
      assert.equal((await keys.find(id))?.leaseOwner, 'a');
      await keys.releaseLease(id, 'a');
      assert.equal((await keys.find(id))?.leaseOwner, null);
      assert.equal(await keys.takeLease(id, 'b', 60_000), true);
    });

    it('takeLease takes over a lapsed lease', async () => {
      const id = await user();
      assert.equal(await keys.takeLease(id, 'crashed', 1), true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await keys.takeLease(id, 'next', 60_000), true);
      assert.equal((await keys.find(id))?.leaseOwner, 'next');
    });

    it('writeNewKey writes the key and its budget columns; a renewal is counted', async () => {
      const id = await user();
      await keys.takeLease(id, 't', 60_000);
      const written = await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('h1'), null));
      assert.equal(written, true);
      let row = (await keys.find(id))!;
      assert.deepEqual(
        [row.upstreamHash, row.keyEncrypted, row.status, row.spendingLimit, row.replacedSpendUsd, row.renewalCount],
        ['h1', 'sealed-h1', 'active', 7.5, 2.5, 0],
      );
      assert.equal(row.budgetPeriod, 'monthly');
      assert.equal(row.periodStartedAt?.toISOString(), '2026-03-01T00:00:00.000Z');
      const renewedAt = new Date();
      await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('h2'), renewedAt));
      row = (await keys.find(id))!;
      assert.deepEqual([row.upstreamHash, row.autoRenewed, row.renewalCount], ['h2', true, 1]);
      assert.equal(row.lastRenewalAt?.getTime(), renewedAt.getTime());
    });

    it('writeNewKey writes nothing onto a disabled row (false), nor onto a missing one', async () => {
      const id = await user();
      await db.transactions.run((uow) => keys.disable(uow, id));
      assert.equal(await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('hx'), null)), false);
      assert.equal((await keys.find(id))?.upstreamHash, null);
      const missing = await user();
      assert.equal(await db.transactions.run((uow) => keys.writeNewKey(uow, missing, newKey('hy'), null)), false);
    });

    it('lockUpstreamHash and disable: the hash, then a disabled row without a key (made when missing)', async () => {
      const id = await user();
      await keys.takeLease(id, 't', 60_000);
      await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('h-dis'), null));
      const hash = await db.transactions.run(async (uow) => {
        const locked = await keys.lockUpstreamHash(uow, id);
        await keys.disable(uow, id);
        return locked;
      });
      assert.equal(hash, 'h-dis');
      const row = (await keys.find(id))!;
      assert.deepEqual([row.status, row.upstreamHash, row.keyEncrypted, row.label], ['disabled', null, null, null]);

      const without = await user();
      assert.equal(await db.transactions.run((uow) => keys.lockUpstreamHash(uow, without)), null);
      await db.transactions.run((uow) => keys.disable(uow, without));
      assert.equal((await keys.find(without))?.status, 'disabled');
    });

    it('recordFailedAttempt: the code and time, and the failed status only when asked', async () => {
      const id = await user();
      await keys.takeLease(id, 't', 60_000);
      const at = new Date();
      await db.transactions.run((uow) => keys.recordFailedAttempt(uow, id, 'openrouter_timeout', at, true));
      let row = (await keys.find(id))!;
      assert.deepEqual([row.status, row.lastErrorCode], ['provisioning_failed', 'openrouter_timeout']);
      assert.equal(row.lastAttemptAt?.getTime(), at.getTime());
      await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('h-keep'), null));
      await db.transactions.run((uow) => keys.recordFailedAttempt(uow, id, 'openrouter_unavailable', at, false));
      row = (await keys.find(id))!;
      assert.deepEqual(
        [row.status, row.lastErrorCode, row.upstreamHash],
        ['active', 'openrouter_unavailable', 'h-keep'],
      );
    });

    it('writeBudgetColumns touches only the row of that key; writeBudget sets the budget', async () => {
      const id = await user();
      await keys.takeLease(id, 't', 60_000);
      await db.transactions.run((uow) => keys.writeNewKey(uow, id, newKey('h-b'), null));
      await keys.writeBudgetColumns(id, 'h-other', { spendingLimit: 1 });
      assert.equal((await keys.find(id))?.spendingLimit, 7.5);
      await keys.writeBudgetColumns(id, 'h-b', { spendingLimit: 3.25, replacedSpendUsd: 0 });
      assert.deepEqual([(await keys.find(id))?.spendingLimit, (await keys.find(id))?.replacedSpendUsd], [3.25, 0]);
      await db.transactions.run((uow) => keys.writeBudget(uow, id, 42, { spendingLimit: 42 }));
      const row = (await keys.find(id))!;
      assert.deepEqual([row.budgetUsd, row.spendingLimit], [42, 42]);
      await db.transactions.run((uow) => keys.writeBudget(uow, id, null, {}));
      assert.equal((await keys.find(id))?.budgetUsd, null);
    });

    it('staleSealed pages the keys not under the current prefix; replaceSealed only over the value read', async () => {
      const a = await user();
      const b = await user();
      for (const [id, sealed] of [
        [a, 'old:a'],
        [b, 'new:b'],
      ]) {
        await keys.takeLease(id, 't', 60_000);
        await db.transactions.run((uow) =>
          keys.writeNewKey(uow, id, { ...newKey(`h-${id}`), keyEncrypted: sealed }, null),
        );
      }
      const stale = (await keys.staleSealed('new:', null, 1000)).filter((s) => s.userId === a || s.userId === b);
      assert.deepEqual(stale, [{ userId: a, keyEncrypted: 'old:a' }]);
      assert.deepEqual(
        (await keys.staleSealed('new:', a, 1000)).filter((s) => s.userId === a),
        [],
        'after the cursor',
      );
      assert.equal(await keys.replaceSealed(a, 'something else', 'new:a'), false);
      assert.equal(await keys.replaceSealed(a, 'old:a', 'new:a'), true);
      assert.equal((await keys.find(a))?.keyEncrypted, 'new:a');
    });
  });

  describe('OpenRouterKeyDeletionRepository', () => {
    it('enqueue queues a hash once; pendingHashes lists it; remove answers its user', async () => {
      const id = await user();
      await db.transactions.run(async (uow) => {
        await deletions.enqueue(uow, 'del-1', id, 'refresh');
        await deletions.enqueue(uow, 'del-1', null, 'renewal');
      });
      assert.ok((await deletions.pendingHashes()).includes('del-1'));
      const due = (await deletions.due(1000)).filter((d) => d.upstreamHash === 'del-1');
      assert.deepEqual(
        due.map((d) => [d.userId, d.reason, d.attempts]),
        [[id, 'refresh', 0]],
      );
      assert.equal(await db.transactions.run((uow) => deletions.remove(uow, 'del-1')), id);
      assert.equal((await deletions.pendingHashes()).includes('del-1'), false);
      assert.equal(await db.transactions.run((uow) => deletions.remove(uow, 'del-1')), null);
    });

    it('recordFailedAttempt counts the attempt and pushes the next one back, out of what is due', async () => {
      await db.transactions.run((uow) => deletions.enqueue(uow, 'del-2', null, 'user_deleted'));
      await deletions.recordFailedAttempt('del-2', 'openrouter_unavailable');
      const rows: { attempts: number; last_error_code: string; later: boolean }[] = await db.dataSource.query(
        `SELECT attempts, last_error_code, next_attempt_at > now() + interval '20 seconds' AS later
           FROM openrouter_key_deletions WHERE upstream_hash = 'del-2'`,
      );
      assert.deepEqual(rows, [{ attempts: 1, last_error_code: 'openrouter_unavailable', later: true }]);
      assert.equal(
        (await deletions.due(1000)).some((d) => d.upstreamHash === 'del-2'),
        false,
      );
      assert.ok((await deletions.pendingHashes()).includes('del-2'));
    });

    it('due answers the oldest first, at most `limit`', async () => {
      await db.transactions.run(async (uow) => {
        await deletions.enqueue(uow, 'due-b', null, 'refresh');
        await deletions.enqueue(uow, 'due-a', null, 'refresh');
      });
      await db.dataSource.query(
        `UPDATE openrouter_key_deletions SET next_attempt_at = now() - interval '1 hour' WHERE upstream_hash = 'due-a'`,
      );
      const due = await deletions.due(1);
      assert.deepEqual(
        due.map((d) => d.upstreamHash),
        ['due-a'],
      );
    });
  });
});
