/**
 * Platform administration (`/api/admin/*`): every route open to the users in PLATFORM_ADMIN_USER_IDS, refused
 * (403 forbidden) to other users and (401) to anonymous callers; what each answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser, sessionHeaders } from './support/users';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('platform administration', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  const otherAdmin = newClerkUser();
  const alice = newClerkUser();
  let app: TestApp;
  let aliceId: string;
  const asAdmin = fixedSession(admin);
  const asAlice = fixedSession(alice);

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: { PLATFORM_ADMIN_USER_IDS: ` ${admin.sub}, ${otherAdmin.sub} ` },
    });
    const me = await app.request('GET', '/api/users/me', { headers: asAlice() });
    assert.equal(me.status, 200, me.text);
    aliceId = me.body.id;
    assert.equal((await app.request('GET', '/api/users/me', { headers: asAdmin() })).status, 200);
  });

  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  const routes = () => [
    { method: 'GET', path: '/api/admin/tenants' },
    { method: 'GET', path: `/api/admin/users?email=${encodeURIComponent(alice.email)}` },
    { method: 'GET', path: '/api/admin/audit-events?limit=5' },
    { method: 'GET', path: '/api/admin/stats' },
    { method: 'POST', path: `/api/admin/users/${aliceId}/openrouter-api-key/refresh` },
    { method: 'POST', path: '/api/admin/openrouter/reconcile', body: { dry_run: true } },
  ];

  it('refuses every admin route to other users (403 forbidden) and to anonymous callers (401)', async () => {
    const createdBefore = fake.createdCount;
    for (const route of routes()) {
      const anonymous = await app.request(route.method, route.path, { body: route.body });
      assert.deepEqual(
        [anonymous.status, anonymous.body.code],
        [401, 'unauthenticated'],
        `${route.method} ${route.path}`,
      );
      const user = await app.request(route.method, route.path, { headers: asAlice(), body: route.body });
      assert.deepEqual([user.status, user.body.code], [403, 'forbidden'], `${route.method} ${route.path}`);
      assert.ok(user.body.request_id);
    }
    assert.equal(fake.createdCount, createdBefore, 'no key was refreshed by a refused request');
  });

  it('opens every admin route to each listed admin', async () => {
    for (const session of [asAdmin, fixedSession(otherAdmin)]) {
      for (const route of routes()) {
        const res = await app.request(route.method, route.path, { headers: session(), body: route.body });
        assert.equal(res.status, 200, `${route.method} ${route.path}: ${res.text}`);
      }
    }
  });

  it('GET /api/admin/tenants lists every tenant, newest first, a page at a time', async () => {
    const page1 = await app.request('GET', '/api/admin/tenants?limit=1', { headers: asAdmin() });
    assert.equal(page1.status, 200);
    assert.equal(page1.body.data.length, 1);
    assert.ok(page1.body.next_cursor);
    const t = page1.body.data[0];
    assert.deepEqual(Object.keys(t).sort(), [
      'api_keys_active',
      'clerk_org_id',
      'created_at',
      'id',
      'members',
      'name',
      'personal_owner_id',
      'slug',
      'updated_at',
    ]);
    const page2 = await app.request('GET', `/api/admin/tenants?limit=100&cursor=${page1.body.next_cursor}`, {
      headers: asAdmin(),
    });
    assert.ok(page2.body.data.length >= 2, 'alice, both admins');
    assert.ok(!page2.body.data.some((x: { id: string }) => x.id === t.id), 'pages do not overlap');
    const all = [t, ...page2.body.data];
    const alicePersonal = all.find((x: { personal_owner_id: string | null }) => x.personal_owner_id === aliceId);
    assert.equal(alicePersonal.members, 1);

    const bad = await app.request('GET', '/api/admin/tenants?cursor=bm9wZQ', { headers: asAdmin() });
    assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_cursor']);
    const tooMany = await app.request('GET', '/api/admin/tenants?limit=1000', { headers: asAdmin() });
    assert.equal(tooMany.status, 400);
  });

  it('GET /api/admin/users?email= finds a user case-insensitively, with tenants and key state but no key', async () => {
    const res = await app.request('GET', `/api/admin/users?email=${encodeURIComponent(alice.email.toUpperCase())}`, {
      headers: asAdmin(),
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.length, 1);
    const u = res.body.data[0];
    assert.deepEqual(
      [u.id, u.clerk_user_id, u.email, u.status, u.login_count],
      [aliceId, alice.sub, alice.email, 'active', 1],
    );
    assert.equal(u.tenants.length, 1);
    assert.equal(u.tenants[0].role, 'owner');
    assert.equal(u.openrouter_key.status, 'active');
    assert.match(u.openrouter_key.label, /^sk-or-v1-/);
    assert.ok(!res.text.includes(fake.keys.find((k) => k.hash === u.openrouter_key.hash)!.key), 'never the plaintext');

    const none = await app.request('GET', '/api/admin/users?email=nobody%40example.test', { headers: asAdmin() });
    assert.deepEqual(none.body, { data: [], next_cursor: null });
    const invalid = await app.request('GET', '/api/admin/users?email=not-an-email', { headers: asAdmin() });
    assert.equal(invalid.status, 400);
    const everyone = await app.request('GET', '/api/admin/users', { headers: asAdmin() });
    assert.ok(everyone.body.data.length >= 3);
  });

  it("POST /api/admin/users/{userId}/openrouter-api-key/refresh replaces that user's key, audited as the admin", async () => {
    const before = (await app.request('GET', '/api/users/me', { headers: asAlice() })).body;
    const oldHash = fake.keys.find((k) => k.key === before.openrouter_api_key)!.hash;
    const res = await app.request('POST', `/api/admin/users/${aliceId}/openrouter-api-key/refresh`, {
      headers: asAdmin(),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, aliceId);
    assert.notEqual(res.body.openrouter_key.hash, oldHash);
    assert.ok(!('openrouter_api_key' in res.body));
    const afterMe = (await app.request('GET', '/api/users/me', { headers: asAlice() })).body;
    assert.notEqual(
      afterMe.openrouter_api_key,
      before.openrouter_api_key,
      "the user's own view has the new key at once",
    );
    assert.ok(fake.keys.find((k) => k.hash === oldHash)!.deleted, 'old key deleted upstream');

    const adminId = (await app.request('GET', '/api/users/me', { headers: asAdmin() })).body.id;
    const events = (
      await app.request('GET', '/api/admin/audit-events?action=openrouter_key.refreshed&limit=5', {
        headers: asAdmin(),
      })
    ).body.data;
    const refreshed = events.find((e: { target_id: string }) => e.target_id === aliceId);
    assert.deepEqual([refreshed.actor_type, refreshed.actor_id], ['user', adminId]);
    assert.equal(refreshed.metadata.replaced_hash, oldHash);

    const unknown = await app.request(
      'POST',
      '/api/admin/users/00000000-0000-4000-8000-000000000000/openrouter-api-key/refresh',
      { headers: asAdmin() },
    );
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'not_found']);
    const malformed = await app.request('POST', '/api/admin/users/not-a-uuid/openrouter-api-key/refresh', {
      headers: asAdmin(),
    });
    assert.equal(malformed.status, 404);
    fake.failNext('keys.create', { status: 500 });
    const failing = await app.request('POST', `/api/admin/users/${aliceId}/openrouter-api-key/refresh`, {
      headers: asAdmin(),
    });
    assert.deepEqual([failing.status, failing.body.code], [502, 'openrouter_unavailable']);
  });

  it('GET /api/admin/audit-events lists the trail newest first, filtered by tenant, a page at a time', async () => {
    const tenant = await app.request('POST', '/api/tenants', { headers: asAlice(), body: { name: 'Audited Co' } });
    assert.equal(tenant.status, 201, tenant.text);
    const renamed = await app.request('PATCH', `/api/tenants/${tenant.body.id}`, {
      headers: asAlice(),
      body: { name: 'Audited Company' },
    });
    assert.equal(renamed.status, 200, renamed.text);

    const res = await app.request('GET', `/api/admin/audit-events?tenant_id=${tenant.body.id}&limit=1`, {
      headers: asAdmin(),
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.length, 1);
    const [newest] = res.body.data;
    assert.deepEqual(Object.keys(newest).sort(), [
      'action',
      'actor_id',
      'actor_type',
      'created_at',
      'id',
      'metadata',
      'request_id',
      'target_id',
      'target_type',
      'tenant_id',
    ]);
    assert.deepEqual(
      [newest.action, newest.tenant_id, newest.actor_type, newest.actor_id],
      ['tenant.updated', tenant.body.id, 'user', aliceId],
    );
    assert.match(newest.request_id, /.+/);
    const next = await app.request(
      'GET',
      `/api/admin/audit-events?tenant_id=${tenant.body.id}&limit=1&cursor=${res.body.next_cursor}`,
      { headers: asAdmin() },
    );
    assert.deepEqual(
      next.body.data.map((e: { action: string }) => e.action),
      ['tenant.created'],
    );
    assert.equal(next.body.next_cursor, null);

    const blank = await app.request('GET', '/api/admin/audit-events?tenant_id=&limit=', { headers: asAdmin() });
    assert.equal(blank.status, 200, 'empty parameters mean no filter');
    assert.ok(blank.body.data.length > 1);
    for (const query of ['tenant_id=nope', 'limit=0', 'limit=201', 'action=made.up', 'cursor=%21%21']) {
      const bad = await app.request('GET', `/api/admin/audit-events?${query}`, { headers: asAdmin() });
      assert.equal(bad.status, 400, query);
    }
  });

  it('GET /api/admin/stats counts users, tenants, keys, renewals and provisioning failures', async () => {
    const before = (await app.request('GET', '/api/admin/stats', { headers: asAdmin() })).body;
    const { spend_by_tenant, keys_closest_to_limit, ...counters } = before;
    assert.deepEqual(Object.keys(counters).sort(), [
      'api_keys_active',
      'openrouter_keys_active',
      'openrouter_keys_auto_renewed',
      'provisioning_failures_last_24h',
      'renewals_last_24h',
      'spend_last_24h',
      'spend_last_30d',
      'tenants',
      'users',
    ]);
    for (const value of Object.values(counters)) assert.equal(typeof value, 'number');
    assert.ok(Array.isArray(spend_by_tenant) && Array.isArray(keys_closest_to_limit));

    // A sign-up whose provisioning fails: one more user and tenant, one more failure, no more active keys.
    fake.failNext('keys.create', { status: 500 });
    const failed = await app.request('GET', '/api/users/me', { headers: sessionHeaders(newClerkUser()) });
    assert.equal(failed.body.openrouter_key_status, 'provisioning_failed');
    // A tenant API key, and an automatic renewal when OpenRouter refuses alice's key.
    const tenantId = (await app.request('GET', '/api/users/me', { headers: asAlice() })).body.tenant.id;
    const key = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
      headers: asAlice(),
      body: { name: 'stats' },
    });
    assert.equal(key.status, 201, key.text);
    const aliceKey = (await app.request('GET', '/api/users/me', { headers: asAlice() })).body.openrouter_api_key;
    fake.chatStatusForKey(aliceKey, 401);
    const chat = await app.request('POST', '/api/v1/chat/completions', {
      headers: { 'x-api-key': key.body.key },
      body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(chat.status, 200, chat.text);
    assert.equal(chat.headers.get('x-openrouter-key-renewed'), 'true');

    const stats = (await app.request('GET', '/api/admin/stats', { headers: asAdmin() })).body;
    assert.equal(stats.users, before.users + 1);
    assert.equal(stats.tenants, before.tenants + 1);
    assert.equal(stats.provisioning_failures_last_24h, before.provisioning_failures_last_24h + 1);
    assert.equal(stats.openrouter_keys_active, before.openrouter_keys_active);
    assert.equal(stats.api_keys_active, before.api_keys_active + 1);
    assert.equal(stats.renewals_last_24h, before.renewals_last_24h + 1);
    assert.equal(stats.openrouter_keys_auto_renewed, before.openrouter_keys_auto_renewed + 1);
    assert.ok(UUID.test(tenantId));
  });
});
