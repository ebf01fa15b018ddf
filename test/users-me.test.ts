import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from './support/app';
import { expiredToken, otherKeySignedToken, signClerkToken } from './support/clerk-tokens';
import { DEFAULT_PROVISIONING_KEY, FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser, sessionHeaders } from './support/users';

/** Upstream keys this service created for one user (named umb:<user uuid>:<ms>). */
function upstreamKeysOf(fake: FakeOpenRouter, userId: string) {
  return fake.keys.filter((k) => k.name.startsWith(`umb:${userId}:`));
}

describe('GET /api/users/me and OpenRouter provisioning', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: { OPENROUTER_TIMEOUT_MS: '1500', CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000' },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it('provisions a key at the first login and returns the contract shape', async () => {
    const user = newClerkUser();
    const res = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
    assert.equal(res.status, 200);
    const me = res.body;
    assert.equal(me.clerk_user_id, user.sub);
    assert.equal(me.email, user.email);
    assert.equal(me.first_name, 'Ada');
    assert.equal(me.openrouter_key_status, 'active');
    const [upstream] = upstreamKeysOf(fake, me.id);
    assert.ok(upstream, 'an upstream key named after the user exists');
    assert.equal(me.openrouter_api_key, upstream.key);
    assert.equal(upstream.limit, 15);
    assert.deepEqual(Object.keys(me.openrouter_key).sort(), [
      'auto_renewed',
      'created_at',
      'label',
      'last_renewal_at',
      'limit',
      'limit_remaining',
      'limit_reset',
      'renewal_count',
      'usage',
    ]);
    assert.equal(me.openrouter_key.limit, 15);
    assert.equal(me.openrouter_key.limit_reset, null, 'OPENROUTER_KEY_LIMIT_RESET defaults to none');
    assert.deepEqual(Object.keys(me.openrouter_budget).sort(), [
      'budget',
      'period',
      'period_started_at',
      'remaining',
      'spent',
    ]);
    assert.equal(me.openrouter_budget.budget, 15);
    assert.equal(me.openrouter_budget.period, 'none');
    assert.equal(me.openrouter_budget.period_started_at, null);
    assert.equal(me.openrouter_key.auto_renewed, false);
    assert.equal(me.login_count, 1);
    assert.ok(me.last_login_at);
    assert.equal(me.glm_api_key, null);
    assert.equal(me.tenant.role, 'owner');
    assert.deepEqual(
      me.tenants.map((t: { id: string }) => t.id),
      [me.tenant.id],
    );
    assert.match(res.headers.get('x-request-id') ?? '', /.+/);
  });

  it('counts a login per new session id, not per request, and keeps the same key', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const first = await app.request('GET', '/api/users/me', { headers: session() });
    const again = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(again.body.login_count, 1);
    const second = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
    assert.equal(second.body.login_count, 2);
    assert.equal(second.body.openrouter_api_key, first.body.openrouter_api_key);
    assert.equal(upstreamKeysOf(fake, first.body.id).length, 1);
  });

  it('creates exactly one upstream key for 30 concurrent first requests with different sessions', async () => {
    const user = newClerkUser();
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => app.request('GET', '/api/users/me', { headers: sessionHeaders(user) })),
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(30).fill(200),
    );
    const userId = responses[0].body.id;
    assert.equal(upstreamKeysOf(fake, userId).length, 1);
    assert.equal(new Set(responses.map((r) => r.body.openrouter_api_key)).size, 1);
    const final = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
    assert.equal(final.body.login_count, 31);
  });

  it('refresh stores a new key, deletes the old one upstream and leaves exactly one live key', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const before = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    const res = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
    assert.equal(res.status, 200);
    assert.notEqual(res.body.openrouter_api_key, before.openrouter_api_key);
    assert.equal(res.body.openrouter_key_status, 'active');
    const live = upstreamKeysOf(fake, before.id).filter((k) => !k.deleted);
    assert.equal(live.length, 1);
    assert.equal(live[0].key, res.body.openrouter_api_key);
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.body.openrouter_api_key, res.body.openrouter_api_key);
  });

  it('refresh keeps the stored key and answers 502 openrouter_unavailable when OpenRouter fails', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const before = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    fake.failNext('keys.create', { status: 500, body: { error: { code: 500, message: 'boom' } } });
    const res = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
    assert.equal(res.status, 502);
    assert.equal(res.body.code, 'openrouter_unavailable');
    const after = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    assert.equal(after.openrouter_api_key, before.openrouter_api_key);
    assert.equal(after.openrouter_key_status, 'active');
  });

  it('keeps a replaced key whose upstream deletion failed queued, not forgotten', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const before = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    fake.failNext('keys.delete', { status: 500 }, 5);
    const res = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
    assert.equal(res.status, 200);
    fake.clearModes();
    const old = upstreamKeysOf(fake, before.id).find((k) => k.key === before.openrouter_api_key)!;
    assert.equal(old.deleted, false, 'the failed deletion left the old key upstream');
  });

  it('limits refreshes to 5 a minute per user', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    await app.request('GET', '/api/users/me', { headers: session() });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() })).status,
      );
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const other = newClerkUser();
    const otherRes = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', {
      headers: sessionHeaders(other),
    });
    assert.equal(otherRes.status, 200, 'the limit is per user');
  });

  it('never fails a login when OpenRouter answers 500, times out or refuses connections', async () => {
    const cases: Array<[string, () => Promise<void>]> = [
      ['500', async () => fake.failNext('keys.create', { status: 500 })],
      ['timeout', async () => fake.failNext('keys.create', { delayMs: 3000 })],
      ['refused', async () => fake.refuseConnections()],
    ];
    for (const [name, breakIt] of cases) {
      const user = newClerkUser();
      await breakIt();
      const res = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
      await fake.resume().catch(() => undefined);
      fake.clearModes();
      assert.equal(res.status, 200, name);
      assert.equal(res.body.openrouter_key_status, 'provisioning_failed', name);
      assert.equal(res.body.openrouter_api_key, null, name);
      // The next login retries and succeeds once OpenRouter is back.
      const next = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
      assert.equal(next.body.openrouter_key_status, 'active', name);
      assert.ok(next.body.openrouter_api_key, name);
    }
  });

  it('maps an organization claim to a tenant and honours X-Tenant-ID', async () => {
    const user = newClerkUser();
    const orgId = `org_${user.sub.slice(5)}`;
    const res = await app.request('GET', '/api/users/me', {
      headers: sessionHeaders(user, { o: { id: orgId, rol: 'org:admin', slg: `acme-${user.sub.slice(5, 11)}` } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.tenant.role, 'admin');
    assert.equal(res.body.tenant.slug, `acme-${user.sub.slice(5, 11)}`);
    assert.equal(res.body.tenants.length, 2, 'personal tenant and the organization');
    const personal = res.body.tenants.find((t: { role: string }) => t.role === 'owner');
    const bySlug = await app.request('GET', '/api/users/me', {
      headers: sessionHeaders(user, {}, { 'x-tenant-id': personal.slug }),
    });
    assert.equal(bySlug.body.tenant.id, personal.id);
    const v1 = await app.request('GET', '/api/users/me', {
      headers: sessionHeaders(user, { org_id: orgId, org_role: 'basic_member' } as never),
    });
    assert.equal(v1.body.tenant.slug, res.body.tenant.slug, 'v1 org claims map to the same tenant');

    const stranger = newClerkUser();
    const strangerMe = await app.request('GET', '/api/users/me', { headers: sessionHeaders(stranger) });
    for (const header of [personal.id, personal.slug, 'no-such-tenant', '%%bad%%']) {
      const denied = await app.request('GET', '/api/users/me', {
        headers: sessionHeaders(stranger, {}, { 'x-tenant-id': header }),
      });
      assert.equal(denied.status, 403, header);
      assert.equal(denied.body.code, 'tenant_mismatch', header);
    }
    assert.equal(strangerMe.status, 200);
  });

  it('stores, shows and removes a GLM key, validating the body', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const put = await app.request('PUT', '/api/users/me/provider-keys/glm', {
      headers: session(),
      body: { api_key: 'glm-secret-123456' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.glm_api_key, 'glm-secret-123456');
    for (const body of [{}, { api_key: 'x' }, { api_key: 'glm-secret-123456', extra: true }, { api_key: 42 }]) {
      const bad = await app.request('PUT', '/api/users/me/provider-keys/glm', { headers: session(), body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.code, 'validation_failed');
      assert.ok(Array.isArray(bad.body.details.fields));
    }
    const malformed = await app.request('PUT', '/api/users/me/provider-keys/glm', {
      headers: { ...session(), 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'invalid_json');
    const del = await app.request('DELETE', '/api/users/me/provider-keys/glm', { headers: session() });
    assert.equal(del.status, 204);
    assert.equal((await app.request('GET', '/api/users/me', { headers: session() })).body.glm_api_key, null);
  });

  it('refuses missing, malformed, foreign, expired and wrong-party tokens with coded 401s', async () => {
    const user = newClerkUser();
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'unauthenticated'],
      [{ authorization: 'Basic abc' }, 'unauthenticated'],
      [{ authorization: 'Bearer not-a-jwt' }, 'invalid_token'],
      [{ authorization: `Bearer ${otherKeySignedToken(user)}` }, 'invalid_token'],
      [{ authorization: `Bearer ${expiredToken(user)}` }, 'invalid_token'],
      [{ authorization: `Bearer ${signClerkToken({ ...user, azp: 'https://evil.example' })}` }, 'invalid_token'],
    ];
    for (const [headers, code] of cases) {
      const res = await app.request('GET', '/api/users/me', { headers });
      assert.equal(res.status, 401, JSON.stringify(headers).slice(0, 40));
      assert.equal(res.body.code, code);
      assert.equal(res.body.error, 'Unauthorized');
      assert.ok(res.body.request_id);
    }
  });

  it('echoes a valid X-Request-Id and replaces an invalid one', async () => {
    const ok = await app.request('GET', '/api/health', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(ok.headers.get('x-request-id'), 'abc-123');
    const bad = await app.request('GET', '/api/health', { headers: { 'x-request-id': 'has spaces and ${}' } });
    assert.notEqual(bad.headers.get('x-request-id'), 'has spaces and ${}');
    const err = await app.request('GET', '/api/users/me', { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(err.body.request_id, 'trace-42');
  });

  it('serves health, readiness and the OpenAPI document', async () => {
    assert.deepEqual((await app.request('GET', '/api/health')).body, { status: 'ok' });
    const ready = await app.request('GET', '/api/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks.database, 'up');
    assert.equal(ready.body.checks.openrouter_provisioning, 'configured');
    const doc = await app.request('GET', '/api/docs-json');
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
    for (const path of [
      '/api/users/me',
      '/api/users/me/openrouter-api-key/refresh',
      '/api/users/me/provider-keys/glm',
      '/api/health',
      '/api/health/ready',
    ]) {
      assert.ok(doc.body.paths[path], `${path} is documented`);
    }
    const ui = await app.request('GET', '/api/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger/i);
    const missing = await app.request('GET', '/api/no-such-route');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not_found');
  });

  it('writes one access line per request, with its request id and no secret', async () => {
    const session = fixedSession(newClerkUser());
    const ids = ['me-line-1', 'me-line-2', 'me-line-3'];
    for (const id of ids) {
      const res = await app.request('GET', '/api/users/me', { headers: { ...session(), 'x-request-id': id } });
      assert.equal(res.status, 200);
    }
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 150 && lines.length < ids.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
      lines = app
        .logs()
        .split('\n')
        .filter((l) => ids.some((id) => l.includes(id)))
        .map((l) => JSON.parse(l));
    }
    assert.deepEqual(
      lines.map((l) => [l.request_id, l.method, l.url, l.status, l.msg]),
      ids.map((id) => [id, 'GET', '/api/users/me', 200, 'request completed']),
    );
    for (const line of lines) {
      assert.equal(typeof line.response_time_ms, 'number');
      assert.ok(!/eyJ|sk-or-v1-|authorization/i.test(JSON.stringify(line)), JSON.stringify(line));
    }
  });

  it('shows a changed key at once once /me is warm (the cached view follows the snapshot)', async () => {
    const session = fixedSession(newClerkUser());
    const get = async () => (await app.request('GET', '/api/users/me', { headers: session() })).body;
    const first = await get();
    assert.equal((await get()).openrouter_api_key, first.openrouter_api_key);
    for (const glm of ['glm-first-123456', 'glm-second-123456']) {
      const put = await app.request('PUT', '/api/users/me/provider-keys/glm', {
        headers: session(),
        body: { api_key: glm },
      });
      assert.equal(put.status, 200);
      assert.equal((await get()).glm_api_key, glm);
      assert.equal((await get()).glm_api_key, glm);
    }
    const refreshed = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.openrouter_api_key, first.openrouter_api_key);
    assert.equal((await get()).openrouter_api_key, refreshed.body.openrouter_api_key);
    assert.equal((await get()).glm_api_key, 'glm-second-123456');
  });

  it('keeps users and keys across a restart, and never logs a secret', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const before = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    await app.restart();
    const after = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    assert.equal(after.id, before.id);
    assert.equal(after.openrouter_api_key, before.openrouter_api_key);
    assert.equal(after.login_count, before.login_count);
    assert.equal(upstreamKeysOf(fake, before.id).length, 1);

    const logs = app.logs();
    assert.ok(logs.length > 0);
    for (const key of fake.keys) assert.ok(!logs.includes(key.key), `log leaks ${key.key.slice(0, 12)}…`);
    assert.ok(!logs.includes(DEFAULT_PROVISIONING_KEY), 'log leaks the provisioning key');
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./.test(logs), 'log leaks a JWT');
  });
});

describe('without a provisioning key', () => {
  let app: TestApp;
  before(async () => {
    app = await startApp({ inProcess: true, env: { OPENROUTER_BASE_URL: 'http://127.0.0.1:9/api/v1' } });
  });
  after(() => app?.stop());

  it('reports not_configured and refuses refresh with 503', async () => {
    const user = newClerkUser();
    const me = await app.request('GET', '/api/users/me', { headers: sessionHeaders(user) });
    assert.equal(me.status, 200);
    assert.equal(me.body.openrouter_key_status, 'not_configured');
    assert.equal(me.body.openrouter_api_key, null);
    assert.equal(me.body.openrouter_key, null);
    const refresh = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', {
      headers: sessionHeaders(user),
    });
    assert.equal(refresh.status, 503);
    assert.equal(refresh.body.code, 'openrouter_not_configured');
    const ready = await app.request('GET', '/api/health/ready');
    assert.equal(ready.body.checks.openrouter_provisioning, 'not_configured');
  });
});
