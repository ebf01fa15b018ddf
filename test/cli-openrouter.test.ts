/**
 * The command line for users, their OpenRouter keys, reconciliation and statistics, run as child processes
 * against a database the server prepared (users signed in, OpenRouter keys provisioned). The server is stopped
 * before the first command runs (its jobs would race the commands'), and the embedded database is then served
 * from this process, so that each command joins it as it would join a running server's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, startApp, type TestDatabase } from './support/app';
import { cliRunner, serveEmbeddedDatabase } from './support/cli';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newClerkUser, sessionHeaders } from './support/users';

describe('command line: users, OpenRouter keys, reconciliation, stats', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  const alice = newClerkUser();
  const bob = newClerkUser();
  let aliceId: string;
  let bobKeyHash: string;
  let aliceOldHash: string;
  const orphans: string[] = [];

  const { ok, fails } = cliRunner(() => database, fake);
  let served: Awaited<ReturnType<typeof serveEmbeddedDatabase>> | undefined;

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    const app = await startApp({ inProcess: true, database, openRouter: fake });
    try {
      const a = await app.request('GET', '/api/users/me', { headers: sessionHeaders(alice) });
      const b = await app.request('GET', '/api/users/me', { headers: sessionHeaders(bob) });
      assert.equal(a.status, 200, a.text);
      assert.equal(b.body.openrouter_key_status, 'active', b.text);
      aliceId = a.body.id;
      aliceOldHash = fake.keys.find((k) => k.key === a.body.openrouter_api_key)!.hash;
      bobKeyHash = fake.keys.find((k) => k.key === b.body.openrouter_api_key)!.hash;
    } finally {
      await app.stop(); // keeps the database (startApp was given it)
    }
    // Upstream: orphans of this service (a crash between creation and storage), keys of other services.
    const installation = fake.keys.find((k) => k.hash === bobKeyHash)!.name.split(':')[2];
    for (let i = 0; i < 3; i++)
      orphans.push(fake.seedKey({ name: `umb:${randomUUID()}:${installation}:${Date.now() - 3_600_000}` }).hash);
    for (let i = 0; i < 120; i++) fake.seedKey({ name: `other-service-${i}` });
    fake.seedKey({ name: 'umb:not-a-uuid:123' });
    served = await serveEmbeddedDatabase(database);
  });

  after(async () => {
    await served?.close();
    await database?.drop();
    await fake.stop();
  });

  it('users:list shows users and their key state, never a key', async () => {
    const table = await ok('users:list');
    assert.match(table.stdout, new RegExp(`^${aliceId}\\s+${alice.email}\\s+active`, 'm'));
    assert.doesNotMatch(table.stdout, /sk-or-v1-[0-9a-f]{20,}/);
    const one = JSON.parse((await ok('users:list', '--email', bob.email.toUpperCase(), '--json')).stdout);
    assert.equal(one.length, 1);
    assert.equal(one[0].openrouter_key.hash, bobKeyHash);
  });

  it("users:refresh-openrouter-key replaces a user's key; a failed upstream delete is queued", async () => {
    // The old key's deletion fails (every retry): it stays queued, for reconciliation to finish.
    fake.failNext('keys.delete', { status: 500 }, 3);
    const res = await ok('users:refresh-openrouter-key', alice.email);
    assert.match(res.stdout, new RegExp(`^Refreshed the OpenRouter key of ${alice.email}`, 'm'));
    const fresh = fake.keys.filter((k) => k.name.startsWith(`umb:${aliceId}:`) && !k.deleted);
    assert.equal(fresh.length, 2, 'new key created, old one not deleted yet');
    assert.match(res.stdout, new RegExp(`hash ${fresh.find((k) => k.hash !== aliceOldHash)!.hash}`));

    await fails(/User not found/, 'users:refresh-openrouter-key', 'user_doesnotexist');
  });

  it("users:set-budget gives a user another budget, applied to their key's limit upstream; default restores it", async () => {
    const set = JSON.parse((await ok('users:set-budget', bob.email, '25.5', '--json')).stdout);
    assert.equal(set.openrouter_budget_usd, 25.5);
    assert.equal(set.openrouter_budget.budget, 25.5);
    assert.equal(set.openrouter_key_limit, 25.5);
    assert.equal(fake.keys.find((k) => k.hash === bobKeyHash)!.limit, 25.5, 'applied upstream');

    const back = await ok('users:set-budget', bob.email, 'default');
    assert.match(back.stdout, /15 USD \(none\), the default/);
    assert.equal(fake.keys.find((k) => k.hash === bobKeyHash)!.limit, 15);

    await fails(/<usd>/, 'users:set-budget', bob.email, 'lots');
    await fails(/<usd>/, 'users:set-budget', bob.email, '99999999');
  });

  it('openrouter:reconcile --dry-run lists exactly the orphans; a run deletes them and finishes queued deletions', async () => {
    const before = fake.keys.filter((k) => !k.deleted).length;
    const young = await ok('openrouter:reconcile', '--dry-run', '--json');
    const youngReport = JSON.parse(young.stdout);
    assert.equal(youngReport.orphans.length, 0, 'with the default grace the just-seeded keys are too recent');
    assert.equal(youngReport.too_recent, 3);

    const dry = await ok('openrouter:reconcile', '--dry-run', '--grace-seconds', '0');
    assert.match(dry.stdout, /3 orphaned/);
    assert.match(dry.stdout, /Dry run: nothing deleted/);
    for (const hash of orphans) assert.match(dry.stdout, new RegExp(`^${hash}\\s+umb:`, 'm'));
    assert.match(dry.stderr, /^page 1: 100 keys scanned$/m);
    assert.match(dry.stderr, /^page 2: \d+ keys scanned$/m);
    assert.equal(fake.keys.filter((k) => !k.deleted).length, before, 'a dry run deletes nothing');

    const run = await ok('openrouter:reconcile', '--grace-seconds', '0', '--json');
    const report = JSON.parse(run.stdout);
    assert.deepEqual(report.orphans.map((o: { hash: string }) => o.hash).sort(), [...orphans].sort());
    assert.ok(report.orphans.every((o: { deleted: boolean }) => o.deleted));
    assert.deepEqual([report.deleted, report.failed, report.queue.deleted, report.queue.pending], [3, 0, 1, 0]);
    assert.match(run.stderr, /^deleted umb:/m);

    const gone = fake.keys.filter((k) => k.deleted).map((k) => k.hash);
    for (const hash of [...orphans, aliceOldHash]) assert.ok(gone.includes(hash), `${hash} deleted`);
    assert.ok(!gone.includes(bobKeyHash), "a user's key is kept");
    assert.equal(
      fake.keys.filter((k) => k.name.startsWith('other-service-') && k.deleted).length,
      0,
      'other services untouched',
    );
    assert.ok(!fake.keys.find((k) => k.name === 'umb:not-a-uuid:123')!.deleted);
  });

  it('openrouter:reconcile fails in one line when OpenRouter is down', async () => {
    fake.setMode('keys.list', { status: 503 });
    try {
      await fails(/openrouter_unavailable|503/, 'openrouter:reconcile');
    } finally {
      fake.clearModes();
    }
  });

  it('stats counts users and keys', async () => {
    const { spend_by_tenant, keys_closest_to_limit, ...stats } = JSON.parse((await ok('stats', '--json')).stdout);
    assert.deepEqual(spend_by_tenant, [], 'no gateway usage recorded');
    assert.equal(keys_closest_to_limit.length, 2);
    assert.deepEqual(stats, {
      users: 2,
      tenants: 2,
      api_keys_active: 0,
      openrouter_keys_active: 2,
      openrouter_keys_auto_renewed: 0,
      renewals_last_24h: 0,
      provisioning_failures_last_24h: 0,
      spend_last_24h: 0,
      spend_last_30d: 0,
    });
  });

  it('writes the refresh and the deletions to the audit trail with actor type cli, and no key', async () => {
    const res = await ok('audit:list', '--limit', '200', '--json');
    const events: {
      action: string;
      actor_type: string;
      actor_id: string;
      target_id: string | null;
      metadata: Record<string, unknown>;
    }[] = JSON.parse(res.stdout);
    const byCli = events.filter((e) => e.actor_type === 'cli');
    assert.deepEqual(byCli.map((e) => e.action).sort(), [
      'openrouter_key.deleted',
      'openrouter_key.deleted',
      'openrouter_key.deleted',
      'openrouter_key.refreshed',
      'user.budget_changed',
      'user.budget_changed',
    ]);
    assert.ok(
      byCli.every((e) => /^.+@.+$/.test(e.actor_id)),
      'the operator account and host',
    );
    assert.deepEqual(
      byCli
        .filter((e) => e.action === 'openrouter_key.deleted')
        .map((e) => e.target_id)
        .sort(),
      [...orphans].sort(),
    );
    assert.ok(
      byCli.filter((e) => e.action === 'openrouter_key.deleted').every((e) => e.metadata.reason === 'orphaned'),
    );
    assert.ok(
      events.some((e) => e.action === 'openrouter_key.deleted' && e.target_id === aliceOldHash),
      'the queued deletion is recorded',
    );
    for (const key of fake.keys) assert.ok(!res.stdout.includes(key.key), 'no OpenRouter key in the trail');
  });
});
