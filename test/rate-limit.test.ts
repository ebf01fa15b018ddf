/** Per-key rate limits over HTTP: exact counts, headers, 429s; Redis-backed and Redis-down behaviour; the refresh limit. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

interface KeyOwner {
  session: () => Record<string, string>;
  tenantId: string;
}

async function signIn(app: TestApp): Promise<KeyOwner> {
  const session = fixedSession(newClerkUser());
  const me = await app.request('GET', '/api/users/me', { headers: session() });
  assert.equal(me.status, 200, me.text);
  return { session, tenantId: me.body.tenant.id };
}

async function createKey(
  app: TestApp,
  owner: KeyOwner,
  settings: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const res = await app.request('POST', `/api/tenants/${owner.tenantId}/api-keys`, {
    headers: owner.session(),
    body: { name: 'limited', ...settings },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const me = (app: TestApp, key: string) => app.request('GET', '/api/v1/me', { headers: { 'x-api-key': key } });
const statuses = (responses: AppResponse[]) => responses.map((r) => r.status);

/** Eight requests on a key allowed five a minute: exactly five pass, with the contract's headers. */
async function assertFiveOfEight(app: TestApp, owner: KeyOwner): Promise<void> {
  const { key } = await createKey(app, owner, { rate_limit_per_minute: 5 });
  const responses: AppResponse[] = [];
  for (let i = 0; i < 8; i++) responses.push(await me(app, key));
  assert.deepEqual(statuses(responses), [200, 200, 200, 200, 200, 429, 429, 429]);
  assert.deepEqual(
    responses.map((r) => r.headers.get('x-ratelimit-limit')),
    Array(8).fill('5'),
  );
  assert.deepEqual(
    responses.map((r) => r.headers.get('x-ratelimit-remaining')),
    ['4', '3', '2', '1', '0', '0', '0', '0'],
  );
  for (const r of responses) {
    const reset = Number(r.headers.get('x-ratelimit-reset'));
    assert.ok(reset >= 1 && reset <= 60, `X-RateLimit-Reset ${reset}`);
  }
  for (const r of responses.slice(5)) {
    assert.equal(r.body.code, 'rate_limited');
    assert.equal(r.body.statusCode, 429);
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  }
}

describe('per-key rate limits (in process)', () => {
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

  it('lets exactly 5 of 8 requests through for a key allowed 5 a minute', async () => {
    await assertFiveOfEight(app, await signIn(app));
  });

  it('answers a refusal with the contract body, its headers and one access line, without an exception', async () => {
    const { key } = await createKey(app, await signIn(app), { rate_limit_per_minute: 1 });
    assert.equal((await me(app, key)).status, 200);
    const refused = await app.request('GET', '/api/v1/me', {
      headers: { 'x-api-key': key, 'x-request-id': 'refused-1' },
    });
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.body, {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'rate_limited',
      message: 'Too many requests',
      request_id: 'refused-1',
    });
    assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(
      ['x-ratelimit-limit', 'x-ratelimit-remaining'].map((h) => refused.headers.get(h)),
      ['1', '0'],
    );
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // The access line (buffered: written within a second) is the only line about the refusal.
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 150 && lines.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      lines = app
        .logs()
        .split('\n')
        .filter((l) => l.includes('refused-1'))
        .map((l) => JSON.parse(l));
    }
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.deepEqual(
      [lines[0].request_id, lines[0].method, lines[0].url, lines[0].status, lines[0].err],
      ['refused-1', 'GET', '/api/v1/me', 429, undefined],
    );
    assert.ok(!JSON.stringify(lines[0]).includes(key.slice(4)), 'the access line carries no key');
  });

  it('counts concurrent requests exactly, per key, whatever the route', async () => {
    const owner = await signIn(app);
    const a = await createKey(app, owner, { rate_limit_per_minute: 5 });
    const b = await createKey(app, owner, { rate_limit_per_minute: 5 });
    const burst = await Promise.all(Array.from({ length: 12 }, () => me(app, a.key)));
    assert.equal(burst.filter((r) => r.status === 200).length, 5);
    assert.equal(burst.filter((r) => r.status === 429).length, 7);
    // Another key of the same tenant has its own counter; another API-key route shares the key's.
    assert.equal((await me(app, b.key)).status, 200);
    const users = await app.request('GET', '/api/v1/users', { headers: { 'x-api-key': b.key } });
    assert.deepEqual([users.status, users.headers.get('x-ratelimit-remaining')], [200, '3']);
    // A limit raised takes effect at once (same window, new limit).
    await app.request('PATCH', `/api/tenants/${owner.tenantId}/api-keys/${a.id}`, {
      headers: owner.session(),
      body: { rate_limit_per_minute: 20 },
    });
    const raised = await me(app, a.key);
    assert.deepEqual([raised.status, raised.headers.get('x-ratelimit-limit')], [200, '20']);
  });

  it('keeps Clerk routes free of key limits, and the refresh route at 5 a minute per user', async () => {
    const owner = await signIn(app);
    const clerk = await app.request('GET', '/api/users/me', { headers: owner.session() });
    assert.equal(clerk.headers.get('x-ratelimit-limit'), null);
    const refreshes: AppResponse[] = [];
    for (let i = 0; i < 6; i++)
      refreshes.push(
        await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: owner.session() }),
      );
    assert.deepEqual(statuses(refreshes), [200, 200, 200, 200, 200, 429]);
    assert.equal(refreshes[5].body.code, 'rate_limited');
    assert.ok(Number(refreshes[5].headers.get('retry-after')) > 0);
  });
});

describe('per-key rate limits with Redis', { skip: !redisAvailable() && 'TEST_REDIS_URL not set' }, () => {
  let app: TestApp;
  before(async () => {
    app = await startApp({ inProcess: true, redis: true });
  });
  after(() => app?.stop());

  it('lets exactly 5 of 8 requests through, counted in Redis', async () => {
    await assertFiveOfEight(app, await signIn(app));
  });
});

describe('per-key rate limits while Redis is unreachable', () => {
  let app: TestApp;
  before(async () => {
    // Nothing listens on port 1: the app starts, limits fall back to this instance's counter.
    app = await startApp({ inProcess: true, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(() => app?.stop());

  it('fails open to the in-process counter: limits and revocations still hold on this instance', async () => {
    const owner = await signIn(app);
    await assertFiveOfEight(app, owner);
    const { id, key } = await createKey(app, owner, { rate_limit_per_minute: 100 });
    assert.equal((await me(app, key)).status, 200);
    assert.equal(
      (await app.request('DELETE', `/api/tenants/${owner.tenantId}/api-keys/${id}`, { headers: owner.session() }))
        .status,
      204,
    );
    const refused = await me(app, key);
    assert.deepEqual([refused.status, refused.body.code], [401, 'api_key_revoked']);
    assert.match(app.logs(), /Redis unavailable for rate limits/);
  });
});
