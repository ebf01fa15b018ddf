/** Tenant API keys over HTTP: management routes, key states, rotation grace, scopes, isolation, audit. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateApiKey } from '../libs/api-keys/src/format/api-key-format';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const ADMIN_SUB = `user_platform_admin_${randomBytes(4).toString('hex')}`;
const ALL_SCOPES = ['users:read', 'users:write', 'chat', 'usage:read'];
const KEY_FIELDS = [
  'budget_period',
  'budget_usd',
  'created_at',
  'expires_at',
  'id',
  'is_active',
  'last_used_at',
  'name',
  'prefix',
  'quota_period',
  'rate_limit_per_minute',
  'revoked_at',
  'rotated_from_id',
  'scopes',
  'spent_usd',
  'status',
  'token_quota',
  'tokens_used',
  'updated_at',
  'user_id',
];

interface Owner {
  session: () => Record<string, string>;
  userId: string;
  tenantId: string;
}

describe('tenant API keys', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake, env: { PLATFORM_ADMIN_USER_IDS: ADMIN_SUB } });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  async function signIn(): Promise<Owner> {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id, tenantId: me.body.tenant.id };
  }

  const keysPath = (o: Owner, rest = '') => `/api/tenants/${o.tenantId}/api-keys${rest}`;
  const manage = (o: Owner, method: string, rest = '', body?: unknown) =>
    app.request(method, keysPath(o, rest), { headers: o.session(), body });
  const useKey = (key: string, path = '/api/v1/me', headers: Record<string, string> = {}) =>
    app.request('GET', path, { headers: { 'x-api-key': key, ...headers } });

  async function createKey(o: Owner, body: Record<string, unknown> = {}): Promise<any> {
    const res = await manage(o, 'POST', '', { name: 'server', ...body });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  function expectError(res: AppResponse, status: number, code: string, what = ''): void {
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.equal(res.body.code, code, what);
  }

  it('creates a key shown once, with the contract fields and defaults, and lists and reads it without the plaintext', async () => {
    const owner = await signIn();
    const created = await createKey(owner, { name: 'production' });
    assert.deepEqual(Object.keys(created).sort(), [...KEY_FIELDS, 'key'].sort());
    assert.match(created.key, /^umk_[0-9A-Za-z]{49}$/);
    assert.equal(created.prefix, created.key.slice(0, 12));
    assert.deepEqual(
      [
        created.name,
        created.scopes,
        created.rate_limit_per_minute,
        created.token_quota,
        created.quota_period,
        created.tokens_used,
        created.budget_usd,
        created.budget_period,
        created.spent_usd,
        created.is_active,
      ],
      ['production', ALL_SCOPES, 60, null, null, 0, null, 'month', 0, true],
    );
    assert.deepEqual(
      [created.expires_at, created.user_id, created.last_used_at, created.status, created.revoked_at],
      [null, owner.userId, null, 'active', null],
    );

    const list = await manage(owner, 'GET');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((k: any) => k.id),
      [created.id],
    );
    assert.deepEqual(Object.keys(list.body[0]).sort(), KEY_FIELDS);
    const read = await manage(owner, 'GET', `/${created.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.key, undefined);
    assert.deepEqual(read.body, list.body[0]);

    const me = await useKey(created.key);
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(
      [me.body.tenant.id, me.body.api_key.id, me.body.user.id],
      [owner.tenantId, created.id, owner.userId],
    );

    // The plaintext never reaches the logs, the audit trail or a later response.
    const trail = await app.request('GET', `/api/tenants/${owner.tenantId}/audit-events`, { headers: owner.session() });
    const createdEvent = trail.body.data.find((e: any) => e.action === 'api_key.created');
    assert.deepEqual(
      [createdEvent.target_id, createdEvent.actor_type, createdEvent.metadata.prefix],
      [created.id, 'user', created.prefix],
    );
    assert.ok(!JSON.stringify(trail.body).includes(created.key));
    await sleep(100);
    assert.ok(!app.logs().includes(created.key), 'plaintext key in logs');

    // last_used_at moves without a write per request (batched, at most once a minute per key).
    let lastUsed: string | null = null;
    for (let i = 0; i < 40 && !lastUsed; i++) {
      await sleep(100);
      lastUsed = (await manage(owner, 'GET', `/${created.id}`)).body.last_used_at;
    }
    assert.ok(lastUsed && Date.parse(lastUsed) > Date.parse(created.created_at) - 1000, `last_used_at ${lastUsed}`);
  });

  it('validates what a key is created with', async () => {
    const owner = await signIn();
    const outsider = await signIn();
    const member = await signIn();
    await app.request('POST', `/api/tenants/${owner.tenantId}/members`, {
      headers: owner.session(),
      body: { user_id: member.userId, role: 'member' },
    });

    const custom = await createKey(owner, {
      name: 'custom',
      user_id: owner.userId,
      scopes: ['users:read'],
      rate_limit_per_minute: 7,
      token_quota: 1000,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.deepEqual(
      [custom.user_id, custom.scopes, custom.rate_limit_per_minute, custom.token_quota, custom.quota_period],
      [owner.userId, ['users:read'], 7, 1000, 'total'],
    );
    const monthly = await createKey(owner, { token_quota: 5, quota_period: 'month' });
    assert.equal(monthly.quota_period, 'month');
    const actsAsOwner = await useKey(custom.key);
    assert.deepEqual(
      [actsAsOwner.body.user.id, actsAsOwner.body.api_key.token_quota, actsAsOwner.body.api_key.quota_period],
      [owner.userId, 1000, 'total'],
    );

    // A key acts as its creator: nobody mints a key spending another person's OpenRouter credit.
    for (const other of [member, outsider]) {
      expectError(
        await manage(owner, 'POST', '', { name: 'x', user_id: other.userId }),
        403,
        'forbidden',
        'other user',
      );
    }
    expectError(
      await manage(owner, 'POST', '', { name: 'x', expires_at: new Date(Date.now() - 1000).toISOString() }),
      400,
      'invalid_expires_at',
      'past expiry',
    );
    for (const [body, field] of [
      [{}, 'name'],
      [{ name: 'x', scopes: ['admin'] }, 'scopes'],
      [{ name: 'x', scopes: 'chat' }, 'scopes'],
      [{ name: 'x', rate_limit_per_minute: 0 }, 'rate_limit_per_minute'],
      [{ name: 'x', rate_limit_per_minute: 1.5 }, 'rate_limit_per_minute'],
      [{ name: 'x', token_quota: -1 }, 'token_quota'],
      [{ name: 'x', quota_period: 'week' }, 'quota_period'],
      [{ name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      [{ name: 'x', user_id: 'me' }, 'user_id'],
      [{ name: 'x', key: 'umk_mine' }, 'key'],
    ] as const) {
      const res = await manage(owner, 'POST', '', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(res.body.details?.fields?.includes(field), `${JSON.stringify(body)} names ${field}: ${res.text}`);
    }
  });

  it('refuses malformed, unknown and missing keys with 401, and checks X-Tenant-ID against the key', async () => {
    const owner = await signIn();
    const { key } = await createKey(owner);
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const bad of [
      'umk_',
      'umk_short',
      flipped,
      key.slice(1),
      `${key}x`,
      key.replace('umk_', 'umx_'),
      'sk-or-v1-abcdef',
      generateApiKey().key,
    ]) {
      expectError(await useKey(bad), 401, 'invalid_api_key', bad.slice(0, 12));
    }
    expectError(await app.request('GET', '/api/v1/me'), 401, 'unauthenticated', 'no key');
    expectError(
      await app.request('GET', '/api/v1/me', { headers: { authorization: `Bearer ${key}` } }),
      401,
      'unauthenticated',
      'bearer only on OpenAI routes',
    );
    const other = await signIn();
    assert.equal((await useKey(key, '/api/v1/me', { 'x-tenant-id': owner.tenantId })).status, 200);
    expectError(await useKey(key, '/api/v1/me', { 'x-tenant-id': other.tenantId }), 403, 'tenant_mismatch');
  });

  it('updates, disables, re-enables and expires keys, effective from the next request', async () => {
    const owner = await signIn();
    const created = await createKey(owner);
    assert.equal((await useKey(created.key)).status, 200, 'warm the cache');

    const patched = await manage(owner, 'PATCH', `/${created.id}`, {
      name: 'renamed',
      scopes: ['chat'],
      rate_limit_per_minute: 500,
      token_quota: 10,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(
      [
        patched.body.name,
        patched.body.scopes,
        patched.body.rate_limit_per_minute,
        patched.body.token_quota,
        patched.body.quota_period,
      ],
      ['renamed', ['chat'], 500, 10, 'total'],
    );
    const seen = await useKey(created.key);
    assert.deepEqual(
      [seen.body.api_key.name, seen.body.api_key.scopes, seen.headers.get('x-ratelimit-limit')],
      ['renamed', ['chat'], '500'],
    );
    expectError(await useKey(created.key, '/api/v1/users'), 403, 'forbidden', 'scope removed');

    const cleared = await manage(owner, 'PATCH', `/${created.id}`, { token_quota: null, scopes: ALL_SCOPES });
    assert.deepEqual([cleared.body.token_quota, cleared.body.quota_period], [null, null]);

    const disabled = await manage(owner, 'PATCH', `/${created.id}`, { is_active: false });
    assert.deepEqual([disabled.status, disabled.body.is_active, disabled.body.status], [200, false, 'disabled']);
    expectError(await useKey(created.key), 403, 'api_key_disabled');
    assert.equal((await manage(owner, 'PATCH', `/${created.id}`, { is_active: true })).status, 200);
    assert.equal((await useKey(created.key)).status, 200, 're-enabled');

    for (const body of [
      { is_active: 'no' },
      { name: null },
      { rate_limit_per_minute: null },
      { scopes: ['root'] },
      { key_hash: 'x' },
    ]) {
      assert.equal((await manage(owner, 'PATCH', `/${created.id}`, body)).status, 400, JSON.stringify(body));
    }
    expectError(
      await manage(owner, 'PATCH', `/${created.id}`, { expires_at: new Date(Date.now() - 5000).toISOString() }),
      400,
      'invalid_expires_at',
    );

    // Expiry: a second and a half ahead, then refused as expired (from the cache too).
    const soon = await manage(owner, 'PATCH', `/${created.id}`, {
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    assert.equal(soon.status, 200, soon.text);
    assert.equal((await useKey(created.key)).status, 200);
    await sleep(1700);
    expectError(await useKey(created.key), 401, 'api_key_expired');
    assert.equal((await manage(owner, 'GET', `/${created.id}`)).body.status, 'expired');
    const revived = await manage(owner, 'PATCH', `/${created.id}`, { expires_at: null });
    assert.deepEqual([revived.status, revived.body.expires_at], [200, null]);
    assert.equal((await useKey(created.key)).status, 200, 'expiry lifted');

    const created2 = await createKey(owner, { expires_at: new Date(Date.now() + 1200).toISOString() });
    assert.equal((await useKey(created2.key)).status, 200);
    await sleep(1400);
    expectError(await useKey(created2.key), 401, 'api_key_expired', 'created with an expiry');

    const events = (
      await app.request('GET', `/api/tenants/${owner.tenantId}/audit-events?action=api_key.updated`, {
        headers: owner.session(),
      })
    ).body.data;
    const renamedEvent = events.find((e: any) => e.metadata.changes?.name);
    assert.deepEqual(renamedEvent.metadata.changes.name, { from: 'server', to: 'renamed' });
  });

  it('revokes keys: refused from the next request on, kept for the record', async () => {
    const owner = await signIn();
    const created = await createKey(owner);
    assert.equal((await useKey(created.key)).status, 200);
    assert.equal((await manage(owner, 'DELETE', `/${created.id}`)).status, 204);
    expectError(await useKey(created.key), 401, 'api_key_revoked');
    const read = await manage(owner, 'GET', `/${created.id}`);
    assert.deepEqual([read.status, read.body.status], [200, 'revoked']);
    assert.ok(read.body.revoked_at);
    assert.deepEqual((await manage(owner, 'GET')).body, [], 'revoked keys are not listed by default');
    assert.deepEqual(
      (await manage(owner, 'GET', '?include_revoked=true')).body.map((k: any) => k.id),
      [created.id],
    );
    assert.equal((await manage(owner, 'DELETE', `/${created.id}`)).status, 204, 'revoking again changes nothing');
    expectError(await manage(owner, 'PATCH', `/${created.id}`, { name: 'x' }), 409, 'api_key_already_revoked');
    expectError(await manage(owner, 'POST', `/${created.id}/rotate`, {}), 409, 'api_key_already_revoked');
    const revokedEvents = (
      await app.request('GET', `/api/tenants/${owner.tenantId}/audit-events?action=api_key.revoked`, {
        headers: owner.session(),
      })
    ).body.data;
    assert.equal(revokedEvents.length, 1);
    assert.deepEqual([revokedEvents[0].target_id, revokedEvents[0].metadata.reason], [created.id, 'revoked']);
  });

  it('rotates keys: the old key works during the grace period and is revoked after it', async () => {
    const owner = await signIn();
    const old = await createKey(owner, { name: 'rotating', scopes: ['users:read'], rate_limit_per_minute: 99 });
    assert.equal((await useKey(old.key)).status, 200);

    const rotated = await manage(owner, 'POST', `/${old.id}/rotate`, { grace_period_seconds: 1 });
    assert.equal(rotated.status, 201, rotated.text);
    assert.notEqual(rotated.body.id, old.id);
    assert.notEqual(rotated.body.key, old.key);
    assert.match(rotated.body.key, /^umk_[0-9A-Za-z]{49}$/);
    assert.deepEqual(
      [
        rotated.body.name,
        rotated.body.scopes,
        rotated.body.rate_limit_per_minute,
        rotated.body.rotated_from_id,
        rotated.body.status,
      ],
      ['rotating', ['users:read'], 99, old.id, 'active'],
    );
    assert.equal((await useKey(rotated.body.key)).status, 200, 'new key works');
    assert.equal((await useKey(old.key)).status, 200, 'old key works in its grace period');
    assert.equal((await manage(owner, 'GET', `/${old.id}`)).body.status, 'rotating');
    expectError(await manage(owner, 'POST', `/${old.id}/rotate`, {}), 409, 'api_key_rotating', 'rotating twice');
    await sleep(1300);
    expectError(await useKey(old.key), 401, 'api_key_revoked', 'after the grace period');
    assert.equal((await useKey(rotated.body.key)).status, 200);
    assert.equal((await manage(owner, 'GET', `/${old.id}`)).body.status, 'revoked');

    const again = await manage(owner, 'POST', `/${rotated.body.id}/rotate`, {});
    assert.equal(again.status, 201, 'no body: grace 0');
    expectError(await useKey(rotated.body.key), 401, 'api_key_revoked', 'grace 0 revokes at once');
    assert.equal((await useKey(again.body.key)).status, 200);

    for (const grace of [-1, 604_801, 1.5, 'soon']) {
      assert.equal(
        (await manage(owner, 'POST', `/${again.body.id}/rotate`, { grace_period_seconds: grace })).status,
        400,
        String(grace),
      );
    }
    const rotatedEvent = (
      await app.request('GET', `/api/tenants/${owner.tenantId}/audit-events?action=api_key.rotated`, {
        headers: owner.session(),
      })
    ).body.data.find((e: any) => e.target_id === old.id);
    assert.deepEqual(
      [rotatedEvent.metadata.new_key_id, rotatedEvent.metadata.grace_period_seconds],
      [rotated.body.id, 1],
    );
    assert.ok(!JSON.stringify(rotatedEvent).includes(rotated.body.key));
  });

  it("answers 404 for another tenant's key ids on every key route, and leaves the key alone", async () => {
    const ownerA = await signIn();
    const ownerB = await signIn();
    const keyB = await createKey(ownerB);
    for (const [method, rest, body] of [
      ['GET', `/${keyB.id}`],
      ['PATCH', `/${keyB.id}`, { name: 'stolen' }],
      ['POST', `/${keyB.id}/rotate`, {}],
      ['DELETE', `/${keyB.id}`],
      ['GET', '/not-a-uuid'],
      ['PATCH', '/00000000-0000-4000-8000-000000000000', { name: 'x' }],
    ] as const) {
      expectError(await manage(ownerA, method, rest, body), 404, 'not_found', `${method} ${rest}`);
    }
    // Tenant B's path with A's session: A is not a member.
    expectError(await app.request('GET', keysPath(ownerB), { headers: ownerA.session() }), 404, 'not_found');
    const still = await manage(ownerB, 'GET', `/${keyB.id}`);
    assert.deepEqual([still.body.name, still.body.status], ['server', 'active']);
    assert.equal((await useKey(keyB.key)).status, 200);
  });

  it('revokes the keys of a removed member and of a deleted tenant', async () => {
    const owner = await signIn();
    const member = await signIn();
    const tenant = await app.request('POST', '/api/tenants', { headers: owner.session(), body: { name: 'Doomed' } });
    const t: Owner = { ...owner, tenantId: tenant.body.id };
    await app.request('POST', `/api/tenants/${t.tenantId}/members`, {
      headers: owner.session(),
      body: { user_id: member.userId, role: 'admin' },
    });
    const memberKey = await createKey({ ...member, tenantId: t.tenantId }); // a key acts as its creator
    const ownerKey = await createKey(t);
    assert.equal((await useKey(memberKey.key)).status, 200);
    assert.equal((await useKey(ownerKey.key)).status, 200);

    assert.equal(
      (await app.request('DELETE', `/api/tenants/${t.tenantId}/members/${member.userId}`, { headers: owner.session() }))
        .status,
      204,
    );
    expectError(await useKey(memberKey.key), 401, 'api_key_revoked', "removed member's key");
    assert.equal((await useKey(ownerKey.key)).status, 200, "others' keys keep working");

    assert.equal((await app.request('DELETE', `/api/tenants/${t.tenantId}`, { headers: owner.session() })).status, 204);
    expectError(await useKey(ownerKey.key), 401, 'invalid_api_key', "deleted tenant's key (deleted with it)");

    const admin = fixedSession(newClerkUser({ sub: ADMIN_SUB }));
    const trail = await app.request('GET', `/api/admin/audit-events?tenant_id=${t.tenantId}&limit=200`, {
      headers: admin(),
    });
    const revoked = trail.body.data
      .filter((e: any) => e.action === 'api_key.revoked')
      .map((e: any) => [e.target_id, e.metadata.reason]);
    assert.deepEqual(
      revoked.sort(),
      [
        [memberKey.id, 'member_removed'],
        [ownerKey.id, 'tenant_deleted'],
      ].sort(),
    );
  });
});
