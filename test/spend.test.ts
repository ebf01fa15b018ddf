/**
 * Spend in sight: `/api/users/me` shows what the user's OpenRouter key has spent (from OpenRouter's key endpoint,
 * read in the background and cached), never waits on OpenRouter for it, and admin stats show spend per tenant
 * and the keys closest to their limit.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { eventually, keyHeaders, newTenantKey } from './gateway-helpers';
import { startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

describe('OpenRouter key spend', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  const asAdmin = fixedSession(admin);
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: { OPENROUTER_TIMEOUT_MS: '1500', PLATFORM_ADMIN_USER_IDS: admin.sub },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  // Modes set by one test must not leak into the next.
  afterEach(() => fake.clearModes());

  const hashOf = (userId: string) => fake.keys.find((k) => k.name.startsWith(`umb:${userId}:`))!.hash;
  const keyGets = (hash: string) => fake.requests.filter((r) => r.route === 'keys.get' && r.path.endsWith(hash));

  it('shows usage and limit_remaining once the background read has filled the cache', async () => {
    const session = fixedSession(newClerkUser());
    // The first read of the key's spend is held up, so the spend set below is what OpenRouter answers.
    fake.failNext('keys.get', { delayMs: 500 });
    const first = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.openrouter_key.usage, null, 'unknown until OpenRouter has answered');
    assert.equal(first.body.openrouter_key.limit_remaining, null);
    fake.setKeyUsage(hashOf(first.body.id), 0.42);

    const me = await eventually(
      () => app.request('GET', '/api/users/me', { headers: session() }),
      (r) => r.body.openrouter_key.usage !== null,
      'usage shown',
    );
    assert.equal(me.body.openrouter_key.usage, 0.42);
    assert.equal(me.body.openrouter_key.limit_remaining, 14.58);
    assert.equal(me.body.openrouter_key.limit, 15);
  });

  it('answers null while OpenRouter fails, and /me itself still succeeds', async () => {
    fake.setMode('keys.get', { status: 503 });
    const session = fixedSession(newClerkUser());
    const first = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(first.status, 200, first.text);
    const hash = hashOf(first.body.id);
    // Every attempt (with its retries) answered 503 before we look again.
    await eventually(
      () => keyGets(hash),
      (reqs) => reqs.length >= 3 && reqs.every((r) => r.status === 503),
      'spend reads refused',
    );
    const again = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(again.status, 200);
    assert.equal(again.body.openrouter_key.usage, null);
    assert.equal(again.body.openrouter_key.limit_remaining, null);
    assert.equal(again.body.openrouter_key_status, 'active');
  });

  it('never makes /me wait for a key endpoint that hangs', async () => {
    fake.setMode('keys.get', { delayMs: 120_000 });
    const session = fixedSession(newClerkUser());
    const first = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(first.status, 200, first.text);
    const hash = hashOf(first.body.id);
    await eventually(
      () => keyGets(hash),
      (reqs) => reqs.length >= 1,
      'spend read started',
    );
    // The read is still hanging upstream: the answer cannot have waited for it.
    assert.ok(
      keyGets(hash).some((r) => r.status === 0),
      'a spend read is still in flight',
    );
    const again = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(again.status, 200);
    assert.equal(again.body.openrouter_key.usage, null);
    assert.ok(
      keyGets(hash).some((r) => r.status === 0),
      'answered while the read still hangs',
    );
  });

  it('admin stats show spend per tenant and the keys closest to their limit', async () => {
    assert.equal((await app.request('GET', '/api/users/me', { headers: asAdmin() })).status, 200);
    fake.setUsage({ cost: 0.5 });
    try {
      const spender = await newTenantKey(app);
      for (let i = 0; i < 3; i++) {
        const res = await app.request('POST', '/api/v1/chat/completions', {
          headers: keyHeaders(spender.key),
          body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        });
        assert.equal(res.status, 200, res.text);
      }
      const stats = await eventually(
        () => app.request('GET', '/api/admin/stats', { headers: asAdmin() }),
        (r) =>
          r.body.spend_by_tenant?.some(
            (t: { tenant_id: string; cost: number }) => t.tenant_id === spender.tenantId && t.cost >= 1.5,
          ),
        'usage recorded',
      );
      assert.equal(stats.status, 200);
      const tenant = stats.body.spend_by_tenant.find((t: { tenant_id: string }) => t.tenant_id === spender.tenantId);
      assert.deepEqual({ requests: tenant.requests, cost: tenant.cost }, { requests: 3, cost: 1.5 });
      assert.equal(stats.body.spend_by_tenant[0].tenant_id, spender.tenantId, 'largest spender first');

      const [closest] = stats.body.keys_closest_to_limit;
      assert.equal(closest.user_id, spender.userId, 'the key that spent most is closest to its limit');
      assert.equal(closest.usage, 1.5);
      assert.equal(closest.limit, 15);
      assert.equal(closest.limit_remaining, 13.5);
      assert.ok(['openrouter', 'recorded'].includes(closest.source));
      assert.ok(!JSON.stringify(stats.body).includes(spender.openRouterKey!), 'no plaintext key');
    } finally {
      fake.setUsage({ cost: 0.0001 });
    }
  });
});
