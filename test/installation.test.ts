/**
 * Two deployments (two databases, two servers) sharing one provisioning key at one (fake) OpenRouter:
 * each has its own installation id, generated once, carried by the names of the keys it creates, and
 * reconciliation on one never deletes the other's keys, whatever the grace period, while it still
 * deletes its own orphans.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, startApp, type TestApp, type TestDatabase } from './support/app';
import { FakeOpenRouter, type FakeKey } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Deployment {
  app: TestApp;
  database: TestDatabase;
  admin: ReturnType<typeof newClerkUser>;
  live: FakeKey[];
  installation: string;
}

describe('two installations sharing one OpenRouter provisioning key', () => {
  const fake = new FakeOpenRouter();
  const a = {} as Deployment;
  const b = {} as Deployment;

  const signIn = async (d: Deployment, claims = newClerkUser()) => {
    const me = await d.app.request('GET', '/api/users/me', { headers: fixedSession(claims)() });
    assert.equal(me.body.openrouter_key_status, 'active', me.text);
    const key = fake.keys.find((k) => k.key === me.body.openrouter_api_key)!;
    assert.equal(key.name.split(':')[1], me.body.id, 'the name starts with the user');
    return key;
  };
  const reconcile = (d: Deployment, body: Record<string, unknown>) =>
    d.app.request('POST', '/api/admin/openrouter/reconcile', { headers: fixedSession(d.admin)(), body });

  before(async () => {
    await fake.start();
    for (const d of [a, b]) {
      d.admin = newClerkUser();
      // Each deployment's database made by its own migrations, as two deployments' are (not copied from a template).
      d.database = await createTestDatabase({ empty: true });
      d.app = await startApp({ database: d.database, openRouter: fake, env: { PLATFORM_ADMIN_USER_IDS: d.admin.sub } });
      d.live = [await signIn(d, d.admin), await signIn(d), await signIn(d)];
      d.installation = d.live[0].name.split(':')[2];
    }
  });

  after(async () => {
    await Promise.all([a.app?.stop(), b.app?.stop()]);
    await Promise.all([a.database?.drop(), b.database?.drop()]);
    await fake.stop();
  });

  it('gives each deployment its own installation id, carried by every key name', () => {
    assert.match(a.installation, UUID);
    assert.match(b.installation, UUID);
    assert.notEqual(a.installation, b.installation);
    for (const d of [a, b])
      for (const k of d.live) assert.match(k.name, new RegExp(`^umb:[0-9a-f-]{36}:${d.installation}:\\d+$`));
  });

  it("reconciling one with grace 0 never touches the other's keys, and deletes its own orphans", async () => {
    const old = Date.now() - 86_400_000;
    const orphanA = fake.seedKey({ name: `umb:${randomUUID()}:${a.installation}:${old}` });
    const orphanB = fake.seedKey({ name: `umb:${randomUUID()}:${b.installation}:${old}` });
    // Named before installation ids existed: nobody can tell whose it is, so nobody deletes it.
    const legacy = fake.seedKey({ name: `umb:${randomUUID()}:${old}` });

    const dry = await reconcile(a, { dry_run: true, grace_seconds: 0 });
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual(
      dry.body.orphans.map((o: { hash: string }) => o.hash),
      [orphanA.hash],
    );
    assert.deepEqual(
      [dry.body.ours, dry.body.other_installations, dry.body.unattributed],
      [a.live.length + 1, b.live.length + 1, 1],
    );

    const res = await reconcile(a, { grace_seconds: 0 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.deleted, 1);
    const live = new Set(fake.liveKeys().map((k) => k.hash));
    assert.ok(!live.has(orphanA.hash), "A's orphan deleted");
    for (const k of [...a.live, ...b.live, orphanB, legacy]) assert.ok(live.has(k.hash), `${k.name} kept`);

    // B's users still use their keys.
    const me = await b.app.request('GET', '/api/users/me', { headers: fixedSession(b.admin)() });
    assert.deepEqual([me.body.openrouter_key_status, me.body.openrouter_api_key], ['active', b.live[0].key]);

    const resB = await reconcile(b, { grace_seconds: 0 });
    assert.equal(resB.body.deleted, 1);
    const after = new Set(fake.liveKeys().map((k) => k.hash));
    assert.ok(!after.has(orphanB.hash), "B's orphan deleted by B");
    for (const k of [...a.live, ...b.live, legacy]) assert.ok(after.has(k.hash), `${k.name} kept`);
  });

  it('keeps its installation id across restarts (generated once, stored in the database)', async () => {
    await a.app.restart();
    const key = await signIn(a);
    assert.equal(key.name.split(':')[2], a.installation);
  });
});
