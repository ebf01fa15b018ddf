/**
 * An operator's decision upstream stands: a key disabled in OpenRouter (answered 401 there) is neither renewed nor
 * deleted by the gateway or the user's refresh; requests on it answer 403 `openrouter_key_disabled` until an
 * operator enables it or a platform admin refreshes it (which still counts its spend).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { chatBody, keyHeaders, newTenantKey } from './gateway-helpers';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter, type FakeKey } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

describe('an OpenRouter key an operator disabled upstream', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  const asAdmin = fixedSession(admin);
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { OPENROUTER_TIMEOUT_MS: '1500', PLATFORM_ADMIN_USER_IDS: admin.sub },
    });
    assert.equal((await app.request('GET', '/api/users/me', { headers: asAdmin() })).status, 200);
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });
  afterEach(() => fake.clearModes());

  const liveKeysOf = (userId: string): FakeKey[] =>
    fake.keys.filter((k) => k.name.startsWith(`umb:${userId}:`) && !k.deleted);
  const chat = (key: string) =>
    app.request('POST', '/api/v1/chat/completions', { headers: keyHeaders(key), body: chatBody() });

  /** What an operator does in OpenRouter's dashboard: PATCH /keys/{hash} with the provisioning key. */
  async function operatorSets(hash: string, disabled: boolean): Promise<void> {
    const res = await fetch(`${fake.baseUrl}/keys/${hash}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${fake.provisioningKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ disabled }),
    });
    assert.equal(res.status, 200);
  }

  it('is neither renewed nor deleted, and answers 403 openrouter_key_disabled until an operator enables it', async () => {
    const tk = await newTenantKey(app);
    const [key] = liveKeysOf(tk.userId);
    assert.equal((await chat(tk.key)).status, 200);
    await operatorSets(key.hash, true);
    const created = fake.createdCount;

    // More requests than the replacement limit allows: each is refused as disabled, none as throttled.
    for (let i = 0; i < 7; i++) {
      const res = await chat(tk.key);
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error.code, 'openrouter_key_disabled', 'OpenAI shape on the gateway');
      assert.equal(res.headers.get('x-openrouter-key-renewed'), null);
    }
    const refresh = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: tk.session() });
    assert.equal(refresh.status, 403, refresh.text);
    assert.equal(refresh.body.code, 'openrouter_key_disabled');

    assert.equal(fake.createdCount, created, 'no key was created');
    assert.deepEqual(
      liveKeysOf(tk.userId).map((k) => [k.hash, k.disabled]),
      [[key.hash, true]],
      'the disabled key is still there, still disabled',
    );
    assert.equal(fake.requests.filter((r) => r.route === 'keys.delete' && r.path.endsWith(key.hash)).length, 0);
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_api_key, key.key, 'the stored key is unchanged');

    await operatorSets(key.hash, false);
    const after = await chat(tk.key);
    assert.equal(after.status, 200, after.text);
    assert.equal(liveKeysOf(tk.userId)[0].hash, key.hash, 'the same key works again');
    const refreshed = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: tk.session() });
    assert.equal(refreshed.status, 200, 'an enabled key may be refreshed again at once');
  });

  it("is replaced by a platform admin's refresh, its spend still counted", async () => {
    const tk = await newTenantKey(app);
    const [key] = liveKeysOf(tk.userId);
    fake.setKeyUsage(key.hash, 5);
    await operatorSets(key.hash, true);
    assert.equal((await chat(tk.key)).status, 403);

    const res = await app.request('POST', `/api/admin/users/${tk.userId}/openrouter-api-key/refresh`, {
      headers: asAdmin(),
    });
    assert.equal(res.status, 200, res.text);
    const [fresh] = liveKeysOf(tk.userId);
    assert.notEqual(fresh.hash, key.hash);
    assert.equal(fresh.disabled, false);
    assert.equal(fresh.limit, 10, 'the 5 USD the disabled key spent stay spent');
    assert.ok(fake.keys.find((k) => k.hash === key.hash)!.deleted, 'the replaced key is deleted upstream');
    const ok = await chat(tk.key);
    assert.equal(ok.status, 200, ok.text);
  });

  it('a disabled key whose spend cannot be read is not replaced by an admin either', async () => {
    const tk = await newTenantKey(app);
    const [key] = liveKeysOf(tk.userId);
    await operatorSets(key.hash, true);
    fake.setMode('keys.get', { status: 500 });
    const res = await app.request('POST', `/api/admin/users/${tk.userId}/openrouter-api-key/refresh`, {
      headers: asAdmin(),
    });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'openrouter_unavailable');
    assert.deepEqual(
      liveKeysOf(tk.userId).map((k) => k.hash),
      [key.hash],
    );
  });
});
