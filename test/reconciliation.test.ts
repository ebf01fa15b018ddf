/**
 * Reconciliation of upstream OpenRouter keys, run inside the server (POST /api/admin/openrouter/reconcile, the
 * same code as the schedule and the command line): of a fake upstream holding orphans, live keys, queued
 * deletions and keys of other services, exactly the orphans of this service go.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { postgresAvailable, REPO_ROOT, startApp, TEST_ENCRYPTION_KEY, type TestApp } from './support/app';
import { FakeOpenRouter, type FakeKey } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

describe('OpenRouter key reconciliation', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  const asAdmin = fixedSession(admin);
  let app: TestApp;
  const live: FakeKey[] = [];
  const orphans: FakeKey[] = [];
  const others: FakeKey[] = [];
  let replaced: FakeKey;
  let installation: string;

  const reconcile = (body: Record<string, unknown>) =>
    app.request('POST', '/api/admin/openrouter/reconcile', { headers: asAdmin(), body });

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake, env: { PLATFORM_ADMIN_USER_IDS: admin.sub } });
    // Live keys: users signed in, each with their key stored.
    for (const claims of [admin, newClerkUser(), newClerkUser()]) {
      const session = fixedSession(claims);
      const me = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(me.body.openrouter_key_status, 'active', me.text);
      live.push(fake.keys.find((k) => k.key === me.body.openrouter_api_key)!);
      if (claims !== admin && !replaced) {
        // A refresh whose deletion of the old key fails every retry: the old key stays queued.
        fake.failNext('keys.delete', { status: 500 }, 3);
        const refreshed = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
        assert.equal(refreshed.status, 200, refreshed.text);
        replaced = live.pop()!;
        live.push(fake.keys.find((k) => k.key === refreshed.body.openrouter_api_key)!);
      }
    }
    // Orphans of this installation (umb:<user>:<installation>:<ms>): a crash between creation and storage,
    // a user deleted since; one disabled.
    installation = live[0].name.split(':')[2];
    const old = Date.now() - 86_400_000;
    orphans.push(fake.seedKey({ name: `umb:${randomUUID()}:${installation}:${old}` }));
    orphans.push(fake.seedKey({ name: `umb:${randomUUID()}:${installation}:${old + 1}`, disabled: true }));
    orphans.push(
      fake.seedKey({ name: `umb:${live[0].name.split(':')[1]}:${installation}:${old + 2}` }),
      fake.seedKey({ name: `umb:${randomUUID()}:${installation}:${old + 3}`, limit: 15 }),
    );
    // Keys of other services, some with names close to ours: never touched. Enough of them for several pages.
    for (const name of [
      'production',
      'umb-legacy',
      'umb:not-a-uuid:1',
      `umb:${randomUUID()}`,
      `xumb:${randomUUID()}:1`,
      `umb:${randomUUID()}:1:extra`,
      // Another installation sharing the provisioning key, and a name from before installation ids.
      `umb:${randomUUID()}:${randomUUID()}:${old}`,
      `umb:${randomUUID()}:${old}`,
    ]) {
      others.push(fake.seedKey({ name }));
    }
    for (let i = 0; i < 200; i++) others.push(fake.seedKey({ name: `dashboard key ${i}` }));
  });

  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it('a dry run lists exactly the orphans and deletes nothing', async () => {
    const deletedBefore = fake.deletedCount;
    const res = await reconcile({ dry_run: true, grace_seconds: 0 });
    assert.equal(res.status, 200, res.text);
    const report = res.body;
    assert.equal(report.dry_run, true);
    assert.deepEqual(report.orphans.map((o: { hash: string }) => o.hash).sort(), orphans.map((k) => k.hash).sort());
    assert.equal(report.scanned, fake.keys.filter((k) => !k.deleted).length);
    assert.equal(report.ours, live.length + orphans.length + 1, 'live, orphans and the queued replaced key');
    assert.deepEqual([report.referenced, report.queued, report.too_recent, report.deleted], [live.length, 1, 0, 0]);
    assert.deepEqual([report.other_installations, report.unattributed], [1, 1]);
    const disabled = report.orphans.find((o: { hash: string }) => o.hash === orphans[1].hash);
    assert.equal(disabled.disabled, true, 'disabled keys are listed too');
    assert.equal(disabled.user_id, orphans[1].name.split(':')[1]);
    assert.equal(fake.deletedCount, deletedBefore);
  });

  it('leaves keys younger than the grace period alone', async () => {
    const res = await reconcile({ dry_run: true });
    assert.equal(res.status, 200);
    assert.equal(res.body.grace_seconds, 600);
    // The seeded orphans were created upstream just now: too recent to be judged orphaned.
    assert.deepEqual([res.body.orphans.length, res.body.too_recent], [0, orphans.length]);
  });

  it('refuses a second run while one holds the lease (409 reconciliation_running)', async () => {
    fake.failNext('keys.list', { delayMs: 4000 });
    const listsBefore = fake.requests.filter((r) => r.route === 'keys.list').length;
    const first = reconcile({ dry_run: true, grace_seconds: 0 });
    // The first run holds the lease once it has asked OpenRouter for the keys (held there by the delay).
    while (fake.requests.filter((r) => r.route === 'keys.list').length === listsBefore) await sleep(20);
    const second = await reconcile({ dry_run: true, grace_seconds: 0 });
    assert.deepEqual([second.status, second.body.code], [409, 'reconciliation_running']);
    assert.equal((await first).status, 200);
  });

  it(
    'lets one process at a time run it, server or command line, through the lease row (PostgreSQL)',
    { skip: !postgresAvailable() && 'the embedded database serves one process' },
    async () => {
      const db = new Client({ connectionString: app.database.env.DATABASE_URL });
      await db.connect();
      try {
        // Another process (an instance, or a command line elsewhere) holds the lease.
        await db.query(
          `INSERT INTO job_leases (name, owner, lease_until) VALUES ('openrouter-reconcile', 'elsewhere:42', now() + interval '5 minutes')
         ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until`,
        );
        const cli = await new Promise<{ code: number; stderr: string }>((resolve) => {
          const env = {
            PATH: process.env.PATH ?? '',
            ...app.database.env,
            NODE_ENV: 'test',
            ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
            OPENROUTER_BASE_URL: fake.baseUrl,
            OPENROUTER_PROVISIONING_API_KEY: fake.provisioningKey,
          };
          const main = path.join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
          execFile(
            process.execPath,
            [main, 'openrouter:reconcile', '--dry-run'],
            { cwd: REPO_ROOT, env },
            (err, _out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
          );
        });
        assert.equal(cli.code, 1, cli.stderr);
        assert.match(
          cli.stderr,
          /^error: Another OpenRouter reconciliation is running \(elsewhere:42\); try again later$/m,
        );
        const server = await reconcile({ dry_run: true });
        assert.deepEqual([server.status, server.body.code], [409, 'reconciliation_running']);
        // An expired lease (its holder crashed) is taken over.
        await db.query(
          `UPDATE job_leases SET lease_until = now() - interval '1 second' WHERE name = 'openrouter-reconcile'`,
        );
        assert.equal((await reconcile({ dry_run: true })).status, 200);
      } finally {
        await db.end();
      }
    },
  );

  it('deletes exactly the orphans and the queued key; live keys and other services stay', async () => {
    const res = await reconcile({ grace_seconds: 0 });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      [res.body.deleted, res.body.failed, res.body.queue.deleted, res.body.queue.pending],
      [orphans.length, 0, 1, 0],
    );
    const deleted = new Set(fake.keys.filter((k) => k.deleted).map((k) => k.hash));
    for (const k of orphans) assert.ok(deleted.has(k.hash), `orphan ${k.name} deleted`);
    assert.ok(deleted.has(replaced.hash), 'queued replaced key deleted');
    for (const k of live) assert.ok(!deleted.has(k.hash), `live key ${k.name} kept`);
    for (const k of others) assert.ok(!deleted.has(k.hash), `other service key ${k.name} kept`);

    // Each deletion is audited, the orphans with the admin as actor.
    const adminId = (await app.request('GET', '/api/users/me', { headers: asAdmin() })).body.id;
    const events = (
      await app.request('GET', '/api/admin/audit-events?action=openrouter_key.deleted&limit=50', { headers: asAdmin() })
    ).body.data;
    for (const k of orphans) {
      const e = events.find((x: { target_id: string }) => x.target_id === k.hash);
      assert.deepEqual(
        [e.actor_type, e.actor_id, e.metadata.reason, e.metadata.name],
        ['user', adminId, 'orphaned', k.name],
      );
    }
    assert.ok(events.some((x: { target_id: string }) => x.target_id === replaced.hash));

    const again = await reconcile({ grace_seconds: 0 });
    assert.deepEqual(
      [again.body.orphans.length, again.body.deleted, again.body.queue.attempted],
      [0, 0, 0],
      'nothing left to do',
    );
    // Users still work with their keys.
    for (const k of live) assert.ok(fake.liveKeys().some((x) => x.hash === k.hash));
  });

  it('keeps an orphan whose deletion fails for the next run, and reports it', async () => {
    const orphan = fake.seedKey({ name: `umb:${randomUUID()}:${installation}:${Date.now() - 86_400_000}` });
    fake.failNext('keys.delete', { status: 500 }, 3);
    const res = await reconcile({ grace_seconds: 0 });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.deleted, res.body.failed], [0, 1]);
    assert.equal(res.body.orphans[0].error_code, 'openrouter_unavailable');
    assert.ok(!fake.keys.find((k) => k.hash === orphan.hash)!.deleted);
    const retry = await reconcile({ grace_seconds: 0 });
    assert.deepEqual([retry.body.deleted, retry.body.failed], [1, 0]);
  });

  it('answers 502 openrouter_unavailable when OpenRouter cannot list keys, and frees the lease', async () => {
    fake.setMode('keys.list', { status: 503 });
    try {
      const res = await reconcile({ dry_run: true });
      assert.deepEqual([res.status, res.body.code], [502, 'openrouter_unavailable'], res.text);
      assert.ok(!res.text.includes(fake.provisioningKey), 'no provisioning key in the error');
    } finally {
      fake.clearModes();
    }
    assert.equal((await reconcile({ dry_run: true })).status, 200, 'the next run is not blocked');
  });
});
