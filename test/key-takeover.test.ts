/**
 * Only a key's own user makes the key stronger. The takeover this closes: owner O makes a chat-only key and
 * disables it; admin A re-enables it with every scope, rotates it, and holds a plaintext acting as O. Every
 * step is refused (403 forbidden) and leaves the key as it was, while owners and admins may still disable,
 * revoke, narrow and lower any key, and O may re-enable, widen, raise and rotate their own. A change made with
 * an API key is audited with both the key and its user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

interface Person {
  session: () => Record<string, string>;
  userId: string;
}

const ALL_SCOPES = ['users:read', 'users:write', 'chat', 'usage:read'];

describe('only a key’s own user makes it stronger', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;
  let owner: Person;
  let owner2: Person;
  let admin: Person;
  let tenantId: string;

  async function signIn(): Promise<Person> {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id };
  }

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake });
    owner = await signIn();
    owner2 = await signIn();
    admin = await signIn();
    const t = await app.request('POST', '/api/tenants', { headers: owner.session(), body: { name: 'Takeover' } });
    assert.equal(t.status, 201, t.text);
    tenantId = t.body.id;
    for (const [p, role] of [
      [owner2, 'owner'],
      [admin, 'admin'],
    ] as const) {
      const res = await app.request('POST', `/api/tenants/${tenantId}/members`, {
        headers: owner.session(),
        body: { user_id: p.userId, role },
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  const keys = () => `/api/tenants/${tenantId}/api-keys`;
  const patch = (p: Person, id: string, body: unknown) =>
    app.request('PATCH', `${keys()}/${id}`, { headers: p.session(), body });
  const rotate = (p: Person, id: string) =>
    app.request('POST', `${keys()}/${id}/rotate`, { headers: p.session(), body: {} });

  function forbidden(res: AppResponse, what: string): void {
    assert.deepEqual([res.status, res.body.code], [403, 'forbidden'], `${what}: ${res.text}`);
  }

  async function ownersKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const res = await app.request('POST', keys(), { headers: owner.session(), body: { name: 'o', ...body } });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.id, key: res.body.key };
  }

  it('refuses the takeover at its first step, and at every other, leaving the key as it was', async () => {
    const k = await ownersKey({ scopes: ['chat'] });
    assert.equal((await patch(owner, k.id, { is_active: false })).status, 200);

    forbidden(await patch(admin, k.id, { scopes: ALL_SCOPES, is_active: true }), 'admin widens and re-enables');
    forbidden(await patch(admin, k.id, { is_active: true }), 'admin re-enables');
    forbidden(await patch(admin, k.id, { scopes: ['chat', 'users:write'] }), 'admin widens');
    forbidden(await rotate(admin, k.id), 'admin rotates');
    forbidden(await patch(owner2, k.id, { is_active: true }), 'another owner re-enables');
    forbidden(await rotate(owner2, k.id), 'another owner rotates');

    const after = await app.request('GET', `${keys()}/${k.id}`, { headers: owner.session() });
    assert.deepEqual([after.body.scopes, after.body.is_active, after.body.status], [['chat'], false, 'disabled']);
    const live = await app.request('GET', keys(), { headers: owner.session() });
    assert.equal(live.body.filter((x: any) => x.rotated_from_id === k.id).length, 0, 'no new plaintext was minted');
    const used = await app.request('GET', '/api/v1/me', { headers: { 'x-api-key': k.key } });
    assert.deepEqual([used.status, used.body.code], [403, 'api_key_disabled']);
  });

  it('refuses anyone else raising or removing a limit or extending the expiry', async () => {
    const k = await ownersKey({
      rate_limit_per_minute: 10,
      token_quota: 1000,
      quota_period: 'month',
      budget_usd: 5,
      budget_period: 'month',
      expires_at: '2030-01-01T00:00:00Z',
    });
    for (const [body, what] of [
      [{ rate_limit_per_minute: 11 }, 'a higher rate'],
      [{ token_quota: 1001 }, 'a higher quota'],
      [{ token_quota: null }, 'no quota'],
      [{ quota_period: 'day' }, 'a quota per day rather than per month'],
      [{ budget_usd: 6 }, 'a higher budget'],
      [{ budget_usd: null }, 'no budget'],
      [{ budget_period: 'day' }, 'a budget per day rather than per month'],
      [{ expires_at: '2031-01-01T00:00:00Z' }, 'a later expiry'],
      [{ expires_at: null }, 'no expiry'],
    ] as const) {
      forbidden(await patch(admin, k.id, body), `admin: ${what}`);
      forbidden(await patch(owner2, k.id, body), `other owner: ${what}`);
    }
  });

  it('lets owners and admins disable, narrow, lower and revoke any key of the tenant', async () => {
    const k = await ownersKey({ rate_limit_per_minute: 10, expires_at: '2030-01-01T00:00:00Z' });
    const lowered = await patch(admin, k.id, {
      name: 'renamed',
      scopes: ['chat'],
      rate_limit_per_minute: 5,
      token_quota: 100,
      quota_period: 'total',
      budget_usd: 1,
      budget_period: 'total',
      expires_at: '2029-01-01T00:00:00Z',
      is_active: false,
    });
    assert.equal(lowered.status, 200, lowered.text);
    assert.deepEqual(
      [lowered.body.scopes, lowered.body.rate_limit_per_minute, lowered.body.token_quota, lowered.body.budget_usd],
      [['chat'], 5, 100, 1],
    );
    assert.equal(lowered.body.is_active, false);
    assert.equal((await patch(owner2, k.id, { budget_usd: 0.5, token_quota: 50 })).status, 200);
    const revoked = await app.request('DELETE', `${keys()}/${k.id}`, { headers: { ...admin.session() } });
    assert.equal(revoked.status, 204, revoked.text);
  });

  it("lets the key's own user re-enable, widen, raise, extend and rotate it", async () => {
    const k = await ownersKey({ scopes: ['chat'], rate_limit_per_minute: 10, budget_usd: 1 });
    assert.equal((await patch(admin, k.id, { is_active: false, budget_usd: 0.5 })).status, 200);
    const back = await patch(owner, k.id, {
      is_active: true,
      scopes: ALL_SCOPES,
      rate_limit_per_minute: 100,
      budget_usd: null,
      expires_at: null,
    });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual([back.body.is_active, back.body.scopes.length, back.body.budget_usd], [true, 4, null]);
    const rotated = await rotate(owner, k.id);
    assert.equal(rotated.status, 201, rotated.text);
    assert.equal(rotated.body.user_id, owner.userId);
  });

  it('audits a change made with an API key with both the key and its user', async () => {
    const k = await ownersKey({ scopes: ['users:read', 'users:write'] });
    const added = await app.request('POST', '/api/v1/users', {
      headers: { 'x-api-key': k.key },
      body: { email: `invitee.${Date.now()}@example.test`, role: 'member' },
    });
    assert.equal(added.status, 201, added.text);
    const trail = await app.request('GET', `/api/tenants/${tenantId}/audit-events`, { headers: owner.session() });
    assert.equal(trail.status, 200, trail.text);
    const event = trail.body.data.find((e: any) => e.action === 'member.added' && e.actor_type === 'api_key');
    assert.ok(event, 'the member.added event made with the key');
    assert.deepEqual([event.actor_id, event.metadata.actor_user_id], [k.id, owner.userId]);
  });
});
