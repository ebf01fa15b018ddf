/**
 * The installation repository on a real database: the migration's single row, a first fingerprint recorded once,
 * and a fingerprint moved only from the previous key (or none), never from another key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InstallationRepository } from '#libs/installation';
import { openMediumDatabase, type MediumDatabase } from '../support/medium-database';

describe('InstallationRepository', () => {
  let db: MediumDatabase;
  let installation: InstallationRepository;
  before(async () => {
    db = await openMediumDatabase();
    installation = new InstallationRepository(db.dataSource);
  });
  after(() => db?.close());

  it('reads the installation id and no fingerprint before the first start-up', async () => {
    const row = await installation.read();
    assert.match(row.installationId, /^[0-9a-f-]{36}$/);
    assert.equal(row.keyFingerprint, null);
  });

  it('records the first fingerprint once: a later first start-up does not replace it', async () => {
    await installation.recordFirstFingerprint('fp-1');
    await installation.recordFirstFingerprint('fp-other');
    assert.equal((await installation.read()).keyFingerprint, 'fp-1');
  });

  it('moves the fingerprint from the previous key, never from another one', async () => {
    await installation.moveFingerprint('fp-unknown', 'fp-2');
    assert.equal((await installation.read()).keyFingerprint, 'fp-1');
    await installation.moveFingerprint('fp-1', 'fp-2');
    assert.equal((await installation.read()).keyFingerprint, 'fp-2');
  });

  it('keeps its installation id through fingerprint changes, and writes in a unit of work', async () => {
    const before = await installation.read();
    await assert.rejects(
      db.transactions.run(async (uow) => {
        await installation.moveFingerprint('fp-2', 'fp-3', uow);
        assert.equal((await installation.read(uow)).keyFingerprint, 'fp-3');
        throw new Error('undo');
      }),
      /undo/,
    );
    assert.deepEqual(await installation.read(), before);
  });
});
