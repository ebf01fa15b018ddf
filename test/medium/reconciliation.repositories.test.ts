/**
 * The reconciliation's repositories on a real database: the job lease is held by one owner at a time (a second
 * holder is refused until it is released or expires, and only its holder extends or releases it), and the key
 * references are the hashes users hold or have queued for deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobLeaseRepository, UpstreamKeyReferenceRepository } from '#libs/reconciliation';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

describe('reconciliation repositories', () => {
  let db: MediumDatabase;
  let leases: JobLeaseRepository;
  let references: UpstreamKeyReferenceRepository;
  before(async () => {
    db = await openMediumDatabase();
    leases = new JobLeaseRepository(db.dataSource);
    references = new UpstreamKeyReferenceRepository(db.dataSource);
  });
  after(() => db?.close());

  describe('JobLeaseRepository', () => {
    const TTL = 60_000;

    it('ensure makes one free row, and again leaves it as it is', async () => {
      await leases.ensure('job-a');
      assert.equal(await leases.take('job-a', 'owner-1', TTL), true);
      await leases.ensure('job-a');
      const rows: { n: number }[] = await db.dataSource.query(
        `SELECT count(*)::int AS n FROM job_leases WHERE name = 'job-a' AND owner = 'owner-1'`,
      );
      assert.equal(rows[0].n, 1);
    });

    it('refuses a second holder while the lease is held, and names the holder', async () => {
      assert.equal(await leases.take('job-a', 'owner-2', TTL), false);
      const holder = await leases.holder('job-a');
      assert.equal(holder?.owner, 'owner-1');
      assert.ok(holder!.until.getTime() > Date.now() + TTL / 2);
    });

    it('only the holder extends or releases it', async () => {
      assert.equal(await leases.extend('job-a', 'owner-2', TTL), false);
      await leases.release('job-a', 'owner-2');
      assert.equal((await leases.holder('job-a'))?.owner, 'owner-1');
      assert.equal(await leases.extend('job-a', 'owner-1', TTL), true);
    });

    it('once released, the lease is free and the next owner takes it', async () => {
      await leases.release('job-a', 'owner-1');
      assert.equal(await leases.holder('job-a'), null);
      assert.equal(await leases.take('job-a', 'owner-2', TTL), true);
      assert.equal(await leases.extend('job-a', 'owner-1', TTL), false);
    });

    it('an expired lease is free: another owner takes it and the old holder can no longer extend it', async () => {
      await leases.ensure('job-b');
      assert.equal(await leases.take('job-b', 'owner-1', TTL), true);
      await db.dataSource.query(`UPDATE job_leases SET lease_until = now() - interval '1 second' WHERE name = 'job-b'`);
      assert.equal(await leases.holder('job-b'), null);
      assert.equal(await leases.take('job-b', 'owner-2', TTL), true);
      assert.equal(await leases.extend('job-b', 'owner-1', TTL), false);
      assert.equal((await leases.holder('job-b'))?.owner, 'owner-2');
    });

    it('leases of different names are independent', async () => {
      await leases.ensure('job-c');
      assert.equal(await leases.take('job-c', 'owner-1', TTL), true);
      assert.equal((await leases.holder('job-a'))?.owner, 'owner-2');
    });

    it('takes part in a unit of work: a take rolled back leaves the lease free', async () => {
      await leases.ensure('job-d');
      await assert.rejects(
        db.transactions.run(async (uow) => {
          assert.equal(await leases.take('job-d', 'owner-1', TTL, uow), true);
          throw new Error('undo');
        }),
        /undo/,
      );
      assert.equal(await leases.holder('job-d'), null);
    });
  });

  describe('UpstreamKeyReferenceRepository', () => {
    before(async () => {
      const users: { id: string }[] = await db.dataSource.query(
        `INSERT INTO users (email) VALUES ('held@example.com'), ('none@example.com'), ('queued@example.com') RETURNING id`,
      );
      await db.dataSource.query(
        `INSERT INTO openrouter_keys (user_id, upstream_hash, status) VALUES ($1, 'h-held', 'active'), ($2, NULL, 'none')`,
        [users[0].id, users[1].id],
      );
      await db.dataSource.query(
        `INSERT INTO openrouter_key_deletions (upstream_hash, user_id, reason) VALUES ('h-queued', $1, 'replaced')`,
        [users[2].id],
      );
    });

    it("lists the hashes users hold (not the queue's, not a row without a key)", async () => {
      assert.deepEqual([...(await references.referencedHashes())], ['h-held']);
    });

    it('a held or queued key is referenced; any other is not', async () => {
      assert.equal(await references.isReferencedOrQueued('h-held'), true);
      assert.equal(await references.isReferencedOrQueued('h-queued'), true);
      assert.equal(await references.isReferencedOrQueued('h-orphan'), false);
    });
  });
});
