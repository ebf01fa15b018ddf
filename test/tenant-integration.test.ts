/** /api/v1/me and /api/v1/users with tenant API keys: shapes, pagination, scopes, isolation between tenants. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

interface Tenant {
  session: () => Record<string, string>;
  ownerId: string;
  tenantId: string;
  key: string;
  keyId: string;
}

const USER_FIELDS = ['created_at', 'email', 'first_name', 'id', 'last_login_at', 'last_name', 'role', 'status'];

describe('tenant integration routes (X-API-Key)', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  /** A new user, a new tenant of theirs and an API key of it. */
  async function newTenant(keySettings: Record<string, unknown> = {}): Promise<Tenant> {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    const tenant = await app.request('POST', '/api/tenants', { headers: session(), body: { name: 'Integration' } });
    assert.equal(tenant.status, 201, tenant.text);
    const key = await app.request('POST', `/api/tenants/${tenant.body.id}/api-keys`, {
      headers: session(),
      body: { name: 'server', ...keySettings },
    });
    assert.equal(key.status, 201, key.text);
    return { session, ownerId: me.body.id, tenantId: tenant.body.id, key: key.body.key, keyId: key.body.id };
  }

  async function extraKey(t: Tenant, settings: Record<string, unknown>): Promise<string> {
    const res = await app.request('POST', `/api/tenants/${t.tenantId}/api-keys`, {
      headers: t.session(),
      body: { name: 'extra', ...settings },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.key;
  }

  const v1 = (key: string, method: string, path: string, body?: unknown) =>
    app.request(method, `/api/v1${path}`, { headers: { 'x-api-key': key }, body });

  function expectError(res: AppResponse, status: number, code: string, what = ''): void {
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.equal(res.body.code, code, what);
  }

  it('GET /api/v1/me describes the key, its tenant and its user', async () => {
    const t = await newTenant({ token_quota: 5000, quota_period: 'day', rate_limit_per_minute: 120 });
    const res = await v1(t.key, 'GET', '/me');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['api_key', 'tenant', 'user']);
    assert.deepEqual(res.body.tenant, {
      id: t.tenantId,
      name: 'Integration',
      slug: res.body.tenant.slug,
      budget_usd: null,
      budget_period: 'month',
      spent_usd: 0,
    });
    assert.deepEqual(res.body.api_key, {
      id: t.keyId,
      name: 'server',
      prefix: t.key.slice(0, 12),
      scopes: ['users:read', 'users:write', 'chat', 'usage:read'],
      rate_limit_per_minute: 120,
      token_quota: 5000,
      quota_period: 'day',
      tokens_used: 0,
      budget_usd: null,
      budget_period: 'month',
      spent_usd: 0,
      expires_at: null,
    });
    assert.equal(res.body.user.id, t.ownerId);
    assert.match(res.body.user.email, /@example\.test$/);
    assert.equal(res.headers.get('x-ratelimit-limit'), '120');

    // A tenant rename shows at once (the cached context is dropped).
    await app.request('PATCH', `/api/tenants/${t.tenantId}`, { headers: t.session(), body: { name: 'Renamed' } });
    assert.equal((await v1(t.key, 'GET', '/me')).body.tenant.name, 'Renamed');

    const noScopes = await extraKey(t, { scopes: [] });
    assert.equal((await v1(noScopes, 'GET', '/me')).status, 200, '/me needs no scope');
  });

  it('lists the members of the key tenant only, a page at a time with an opaque cursor', async () => {
    const t = await newTenant();
    const other = await newTenant();
    const emails = Array.from({ length: 5 }, (_, i) => `m${i}.${randomBytes(3).toString('hex')}@example.test`);
    for (const email of emails) assert.equal((await v1(t.key, 'POST', '/users', { email })).status, 201);
    await v1(other.key, 'POST', '/users', { email: `other.${randomBytes(3).toString('hex')}@example.test` });

    const all = await v1(t.key, 'GET', '/users');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(Object.keys(all.body).sort(), ['data', 'next_cursor']);
    assert.equal(all.body.next_cursor, null);
    assert.deepEqual(all.body.data.map((u: any) => u.email).slice(1), emails, 'join order, owner first');
    assert.equal(all.body.data[0].id, t.ownerId);
    assert.deepEqual(Object.keys(all.body.data[0]).sort(), USER_FIELDS);
    assert.deepEqual(
      [all.body.data[0].role, all.body.data[1].role, all.body.data[1].status],
      ['owner', 'member', 'pending'],
    );

    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const res: AppResponse = await v1(
        t.key,
        'GET',
        `/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.data.length <= 2);
      pages.push(res.body.data.map((u: any) => u.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 2, 2],
    );
    assert.deepEqual(
      pages.flat(),
      all.body.data.map((u: any) => u.id),
    );
    assert.equal((await v1(t.key, 'GET', '/users?limit=100')).body.data.length, 6);

    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=2.5', 'other=1']) {
      assert.equal((await v1(t.key, 'GET', `/users?${query}`)).status, 400, query);
    }
    expectError(await v1(t.key, 'GET', '/users?cursor=bm90LWEtY3Vyc29y'), 400, 'invalid_cursor');
    expectError(await v1(t.key, 'GET', '/users?cursor=%%%'), 400, 'invalid_cursor');
  });

  it('reads, adds, re-roles and removes members, and answers 404 for users of other tenants', async () => {
    const t = await newTenant();
    const other = await newTenant();
    const otherMember = (
      await v1(other.key, 'POST', '/users', { email: `x.${randomBytes(3).toString('hex')}@example.test` })
    ).body;

    const email = `new.${randomBytes(3).toString('hex')}@example.test`;
    const created = await v1(t.key, 'POST', '/users', { email, role: 'admin' });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), USER_FIELDS);
    assert.deepEqual(
      [created.body.email, created.body.role, created.body.status, created.body.last_login_at],
      [email, 'admin', 'pending', null],
    );
    expectError(await v1(t.key, 'POST', '/users', { email }), 409, 'already_member');
    for (const body of [{}, { email: 'nope' }, { email, role: 'boss' }, { email, role: 'admin', extra: true }]) {
      assert.equal((await v1(t.key, 'POST', '/users', body)).status, 400, JSON.stringify(body));
    }

    const read = await v1(t.key, 'GET', `/users/${created.body.id}`);
    assert.deepEqual([read.status, read.body], [200, created.body]);
    const patched = await v1(t.key, 'PATCH', `/users/${created.body.id}`, { role: 'member' });
    assert.deepEqual([patched.status, patched.body.role], [200, 'member']);
    // The owner's own key: it never touches its own user's membership (role rules: key-authority.test.ts).
    expectError(
      await v1(t.key, 'PATCH', `/users/${t.ownerId}`, { role: 'member' }),
      403,
      'forbidden',
      'a key cannot re-role its own user',
    );
    expectError(await v1(t.key, 'DELETE', `/users/${t.ownerId}`), 403, 'forbidden', 'a key cannot remove its own user');

    // Tenant A's key on tenant B's user ids, and ids that are no user at all: 404 on every route.
    for (const id of [otherMember.id, other.ownerId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expectError(await v1(t.key, 'GET', `/users/${id}`), 404, 'not_found', `GET ${id}`);
      expectError(await v1(t.key, 'PATCH', `/users/${id}`, { role: 'admin' }), 404, 'not_found', `PATCH ${id}`);
      expectError(await v1(t.key, 'DELETE', `/users/${id}`), 404, 'not_found', `DELETE ${id}`);
    }
    assert.equal((await v1(other.key, 'GET', `/users/${otherMember.id}`)).body.role, 'member', "B's member untouched");

    assert.equal((await v1(t.key, 'DELETE', `/users/${created.body.id}`)).status, 204);
    expectError(await v1(t.key, 'GET', `/users/${created.body.id}`), 404, 'not_found', 'removed');

    const trail = await app.request('GET', `/api/tenants/${t.tenantId}/audit-events`, { headers: t.session() });
    const byKey = trail.body.data.filter((e: any) => e.actor_type === 'api_key').map((e: any) => e.action);
    assert.deepEqual(byKey.sort(), ['member.added', 'member.removed', 'member.role_changed']);
    assert.ok(trail.body.data.filter((e: any) => e.actor_type === 'api_key').every((e: any) => e.actor_id === t.keyId));
  });

  it('refuses routes whose scope the key lacks with 403 forbidden', async () => {
    const t = await newTenant();
    const readOnly = await extraKey(t, { scopes: ['users:read'] });
    const chatOnly = await extraKey(t, { scopes: ['chat'] });
    assert.equal((await v1(readOnly, 'GET', '/users')).status, 200);
    assert.equal((await v1(readOnly, 'GET', `/users/${t.ownerId}`)).status, 200);
    const email = `s.${randomBytes(3).toString('hex')}@example.test`;
    expectError(await v1(readOnly, 'POST', '/users', { email }), 403, 'forbidden', 'POST without users:write');
    expectError(
      await v1(readOnly, 'PATCH', `/users/${t.ownerId}`, { role: 'admin' }),
      403,
      'forbidden',
      'PATCH without users:write',
    );
    expectError(await v1(readOnly, 'DELETE', `/users/${t.ownerId}`), 403, 'forbidden', 'DELETE without users:write');
    expectError(await v1(chatOnly, 'GET', '/users'), 403, 'forbidden', 'GET without users:read');
    expectError(await v1(chatOnly, 'GET', `/users/${t.ownerId}`), 403, 'forbidden', 'GET one without users:read');
    // A Clerk token is no API key.
    expectError(await app.request('GET', '/api/v1/users', { headers: t.session() }), 401, 'unauthenticated');
  });
});
