/**
 * The migration that brings keys made before "a key acts as its creator" under the rule: on a database
 * at the schema before it, with keys of every kind, it revokes exactly the keys acting as someone other
 * than their creator, as nobody, or as a user who never signed in, and audits each without its secret.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { openDatabaseEndpoint, type DatabaseEndpoint } from '#libs/database';
import { dataSourceOptions } from '../libs/database/src/data-source-options';
import { KeysActAsCreator1764000006000 } from '../migrations/1764000006000-KeysActAsCreator';
import { createTestDatabase, type TestDatabase } from './support/app';

const MIGRATIONS = path.join(__dirname, '..', 'migrations');
const BEFORE = ['1764000000000-Foundation.js', '1764000001000-ApiKeys.js'].map((f) => path.join(MIGRATIONS, f));

describe('migration: keys act as their creator', () => {
  let database: TestDatabase;
  let endpoint: DatabaseEndpoint;
  let ds: DataSource;

  before(async () => {
    database = await createTestDatabase({ empty: true });
    endpoint = await openDatabaseEndpoint({
      databaseUrl: database.env.DATABASE_URL,
      dataDir: database.env.DATA_DIR ?? '',
      poolSize: 10,
    });
    // The schema as it was before this migration; the migration itself is run by the test.
    ds = await new DataSource({ ...dataSourceOptions(endpoint), migrations: BEFORE }).initialize();
    await ds.runMigrations();
  });
  after(async () => {
    await ds?.destroy();
    await endpoint?.close();
    await database?.drop();
  });

  const user = async (clerk: string | null, status: string): Promise<string> =>
    (
      await ds.query(`INSERT INTO users (clerk_user_id, email, status) VALUES ($1, $2, $3) RETURNING id`, [
        clerk,
        `${clerk ?? 'pending'}-${Math.random()}@example.test`,
        status,
      ])
    )[0].id;

  let n = 0;
  const key = async (
    tenantId: string,
    userId: string | null,
    opts: { rotatedFrom?: string; revokedAt?: Date } = {},
  ): Promise<string> => {
    n++;
    const hash = `${'0'.repeat(60)}${String(n).padStart(4, '0')}`;
    return (
      await ds.query(
        `INSERT INTO api_keys (tenant_id, user_id, name, key_hash, prefix, scopes, rate_limit_per_minute, rotated_from_id, revoked_at)
         VALUES ($1, $2, 'k', $3, $4, ARRAY['chat']::text[], 60, $5, $6) RETURNING id`,
        [tenantId, userId, hash, `umk_${String(n).padStart(8, '0')}`, opts.rotatedFrom ?? null, opts.revokedAt ?? null],
      )
    )[0].id;
  };
  const created = (keyId: string, actorType: string, actorId: string | null) =>
    ds.query(
      `INSERT INTO audit_events (action, actor_type, actor_id, target_type, target_id) VALUES ('api_key.created', $1, $2, 'api_key', $3)`,
      [actorType, actorId, keyId],
    );

  it('revokes keys acting as another user, as nobody or as a pending user, and audits each', async () => {
    const owner = await user('user_owner', 'active');
    const admin = await user('user_admin', 'active');
    const ghost = await user(null, 'pending');
    const tenant = (await ds.query(`INSERT INTO tenants (name, slug) VALUES ('T', 't') RETURNING id`))[0].id;
    for (const [u, role] of [
      [owner, 'owner'],
      [admin, 'admin'],
      [ghost, 'member'],
    ])
      await ds.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)`, [tenant, u, role]);

    const own = await key(tenant, owner);
    await created(own, 'user', owner);
    const forAdmin = await key(tenant, admin); // the owner minted a key spending the admin's credit
    await created(forAdmin, 'user', owner);
    const forGhost = await key(tenant, ghost);
    await created(forGhost, 'user', owner);
    const byCli = await key(tenant, admin); // an operator named the admin
    await created(byCli, 'cli', null);
    const byCliForGhost = await key(tenant, ghost);
    await created(byCliForGhost, 'cli', null);
    const noUser = await key(tenant, null);
    await created(noUser, 'cli', null);
    // A rotation keeps the user: the new key is judged by the creator of the first one.
    const rotatedOld = await key(tenant, admin, { revokedAt: new Date(Date.now() + 3_600_000) });
    await created(rotatedOld, 'user', owner);
    const rotatedNew = await key(tenant, admin, { rotatedFrom: rotatedOld });
    const rotatedOwn = await key(tenant, owner, { rotatedFrom: own });
    const longRevoked = await key(tenant, admin, { revokedAt: new Date(Date.now() - 86_400_000) });
    await created(longRevoked, 'user', owner);

    const runner = ds.createQueryRunner();
    try {
      await new KeysActAsCreator1764000006000().up(runner);
    } finally {
      await runner.release();
    }

    const rows: { id: string; revoked: boolean }[] = await ds.query(
      `SELECT id, (revoked_at IS NOT NULL AND revoked_at <= now()) AS revoked FROM api_keys`,
    );
    const revoked = new Set(rows.filter((r) => r.revoked).map((r) => r.id));
    const expectRevoked = [forAdmin, forGhost, byCliForGhost, noUser, rotatedOld, rotatedNew, longRevoked];
    const expectKept = [own, byCli, rotatedOwn];
    for (const id of expectRevoked) assert.ok(revoked.has(id), `revoked: ${id}`);
    for (const id of expectKept) assert.ok(!revoked.has(id), `kept: ${id}`);

    const audits: { target_id: string; actor_type: string; tenant_id: string; metadata: Record<string, unknown> }[] =
      await ds.query(
        `SELECT target_id, actor_type, tenant_id, metadata FROM audit_events WHERE action = 'api_key.revoked' ORDER BY target_id`,
      );
    // One row per key revoked by the migration (the key revoked long ago is not revoked again).
    assert.deepEqual(audits.map((a) => a.target_id).sort(), expectRevoked.filter((id) => id !== longRevoked).sort());
    const reasons = Object.fromEntries(audits.map((a) => [a.target_id, a.metadata.reason]));
    assert.equal(reasons[forAdmin], 'acts_as_another_user');
    assert.equal(reasons[forGhost], 'acts_as_another_user');
    assert.equal(reasons[byCliForGhost], 'user_not_signed_in');
    assert.equal(reasons[noUser], 'acts_as_no_user');
    assert.equal(reasons[rotatedNew], 'acts_as_another_user');
    for (const a of audits) {
      assert.equal(a.actor_type, 'system');
      assert.equal(a.tenant_id, tenant);
      assert.doesNotMatch(JSON.stringify(a.metadata), /key_hash|0{20}/, 'no secret or hash in the audit row');
    }
  });
});
