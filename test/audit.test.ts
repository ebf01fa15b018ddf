/**
 * The audit trail: an event for every action the contract lists, written by the code that performs it, with its
 * actor, tenant and target; no secret in any row; readable by platform admins and by a tenant's owners and admins.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'svix';
import { startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser, sessionHeaders } from './support/users';

const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

interface AuditRow {
  id: string;
  action: string;
  actor_type: string;
  actor_id: string | null;
  tenant_id: string | null;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
  request_id: string | null;
  created_at: string;
}

describe('audit trail', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  const alice = newClerkUser();
  const bob = newClerkUser();
  const carol = newClerkUser();
  const outsider = newClerkUser();
  let app: TestApp;
  /** Every secret the test saw: none may appear in an audit row. */
  const secrets = new Set<string>();
  const session = (claims: ReturnType<typeof newClerkUser>) => {
    const headers = fixedSession(claims);
    secrets.add(headers().authorization.slice('Bearer '.length));
    return headers;
  };
  const asAdmin = session(admin);
  const asAlice = session(alice);
  const asBob = session(bob);
  const asOutsider = session(outsider);
  const ids: Record<string, string> = {};
  let tenantId: string;
  let events: AuditRow[] = [];

  const call = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
    expected = 200,
  ) => {
    const res = await app.request(method, path, { headers, body });
    assert.equal(res.status, expected, `${method} ${path}: ${res.text}`);
    return res.body;
  };
  const allEvents = async (): Promise<AuditRow[]> => {
    const rows: AuditRow[] = [];
    let cursor = '';
    for (;;) {
      const page = await call(
        'GET',
        `/api/admin/audit-events?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        asAdmin(),
      );
      rows.push(...page.data);
      if (!page.next_cursor) return rows;
      cursor = page.next_cursor;
    }
  };

  before(async () => {
    await fake.start();
    secrets.add(fake.provisioningKey);
    secrets.add(WEBHOOK_SECRET);
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: { PLATFORM_ADMIN_USER_IDS: admin.sub, CLERK_WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET },
    });

    // Sign-ins: keys provisioned; carol's provisioning fails.
    for (const [name, headers] of [
      ['admin', asAdmin],
      ['alice', asAlice],
      ['bob', asBob],
      ['outsider', asOutsider],
    ] as const) {
      ids[name] = (await call('GET', '/api/users/me', headers())).id;
    }
    fake.failNext('keys.create', { status: 500 });
    const carolMe = await call('GET', '/api/users/me', sessionHeaders(carol));
    assert.equal(carolMe.openrouter_key_status, 'provisioning_failed');
    ids.carol = carolMe.id;

    // Tenant, members, API keys: alice owns "Trail Co", bob joins as member and becomes admin.
    const tenant = await call('POST', '/api/tenants', asAlice(), { name: 'Trail Co' }, 201);
    tenantId = tenant.id;
    await call('PATCH', `/api/tenants/${tenantId}`, asAlice(), { name: 'Trail Company' });
    await call('POST', `/api/tenants/${tenantId}/members`, asAlice(), { email: bob.email, role: 'member' }, 201);
  });

  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it("lets a tenant's owners and admins read its trail, and no one else", async () => {
    const path = `/api/tenants/${tenantId}/audit-events`;
    const own = await call('GET', path, asAlice());
    assert.deepEqual(
      own.data.map((e: AuditRow) => e.action),
      ['member.added', 'tenant.updated', 'tenant.created'],
    );
    assert.ok(own.data.every((e: AuditRow) => e.tenant_id === tenantId));
    assert.equal(own.next_cursor, null);

    const member = await app.request('GET', path, { headers: asBob() });
    assert.deepEqual([member.status, member.body.code], [403, 'forbidden'], 'a plain member');
    const stranger = await app.request('GET', path, { headers: asOutsider() });
    assert.deepEqual([stranger.status, stranger.body.code], [404, 'not_found'], 'not a member: as if it did not exist');
    const platformAdmin = await app.request('GET', path, { headers: asAdmin() });
    assert.equal(platformAdmin.status, 404, 'platform admins use /api/admin/audit-events');
    assert.equal(
      (await app.request('GET', `/api/tenants/${randomUUID()}/audit-events`, { headers: asAlice() })).status,
      404,
    );
    assert.equal((await app.request('GET', path)).status, 401);
    assert.equal((await app.request('GET', `${path}?limit=0`, { headers: asAlice() })).status, 400);

    await call('PATCH', `/api/tenants/${tenantId}/members/${ids.bob}`, asAlice(), { role: 'admin' });
    const asTenantAdmin = await call('GET', `${path}?limit=2`, asBob());
    assert.deepEqual(
      asTenantAdmin.data.map((e: AuditRow) => e.action),
      ['member.role_changed', 'member.added'],
    );
    const rest = await call('GET', `${path}?limit=2&cursor=${asTenantAdmin.next_cursor}`, asBob());
    assert.deepEqual(
      rest.data.map((e: AuditRow) => e.action),
      ['tenant.updated', 'tenant.created'],
    );
    const onlyRoles = await call('GET', `${path}?action=member.role_changed`, asBob());
    assert.deepEqual(
      onlyRoles.data.map((e: AuditRow) => e.metadata),
      [{ from: 'member', to: 'admin' }],
    );
  });

  it('records every action the contract lists, with its actor, tenant and target', async () => {
    // API keys: created, updated, rotated, revoked.
    const key = await call('POST', `/api/tenants/${tenantId}/api-keys`, asAlice(), { name: 'trail key' }, 201);
    secrets.add(key.key);
    await call('PATCH', `/api/tenants/${tenantId}/api-keys/${key.id}`, asAlice(), { rate_limit_per_minute: 30 });
    // Only the key's own user rotates it (an admin's attempt is refused, and not audited).
    await call('POST', `/api/tenants/${tenantId}/api-keys/${key.id}/rotate`, asBob(), {}, 403);
    const rotated = await call(
      'POST',
      `/api/tenants/${tenantId}/api-keys/${key.id}/rotate`,
      asAlice(),
      { grace_period_seconds: 0 },
      201,
    );
    secrets.add(rotated.key);
    // OpenRouter: an automatic renewal after a 401 (through the gateway), a refresh, the old keys deleted.
    const aliceKey = (await call('GET', '/api/users/me', asAlice())).openrouter_api_key;
    fake.chatStatusForKey(aliceKey, 401);
    const chat = await app.request('POST', '/api/v1/chat/completions', {
      headers: { authorization: `Bearer ${rotated.key}` },
      body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `my key is ${aliceKey}` }] },
    });
    assert.equal(chat.status, 200, chat.text);
    assert.equal(chat.headers.get('x-openrouter-key-renewed'), 'true');
    await call('POST', '/api/users/me/openrouter-api-key/refresh', asAlice());
    await call('DELETE', `/api/tenants/${tenantId}/api-keys/${rotated.id}`, asAlice(), undefined, 204);
    // Members leave, the tenant goes; Clerk deletes carol (webhook).
    await call('DELETE', `/api/tenants/${tenantId}/members/${ids.bob}`, asAlice(), undefined, 204);
    await call('DELETE', `/api/tenants/${tenantId}`, asAlice(), undefined, 204);
    const body = JSON.stringify({ type: 'user.deleted', object: 'event', data: { id: carol.sub, deleted: true } });
    const msgId = `msg_${randomUUID().replace(/-/g, '')}`;
    const now = new Date();
    const hook = await app.request('POST', '/api/webhooks/clerk', {
      headers: {
        'content-type': 'application/json',
        'svix-id': msgId,
        'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
        'svix-signature': new Webhook(WEBHOOK_SECRET).sign(msgId, now, body),
      },
      body,
    });
    assert.equal(hook.status, 200, hook.text);
    for (const k of fake.keys) secrets.add(k.key);

    events = await allEvents();
    const find = (action: string, where: (e: AuditRow) => boolean = () => true) => {
      const found = events.filter((e) => e.action === action && where(e));
      assert.ok(found.length > 0, `an event ${action}`);
      return found;
    };
    const inTenant = (e: AuditRow) => e.tenant_id === tenantId;
    const byAlice = (e: AuditRow) => e.actor_type === 'user' && e.actor_id === ids.alice;

    find('tenant.created', (e) => inTenant(e) && byAlice(e) && e.target_id === tenantId);
    find('tenant.deleted', (e) => inTenant(e) && byAlice(e));
    find('member.added', (e) => inTenant(e) && byAlice(e) && e.target_id === ids.bob);
    find('member.role_changed', (e) => inTenant(e) && byAlice(e) && e.target_id === ids.bob);
    find('member.removed', (e) => inTenant(e) && byAlice(e) && e.target_id === ids.bob);
    find('api_key.created', (e) => inTenant(e) && byAlice(e) && e.target_id === key.id);
    find('api_key.updated', (e) => inTenant(e) && byAlice(e) && e.target_id === key.id);
    find('api_key.rotated', (e) => inTenant(e) && byAlice(e) && e.target_id === key.id);
    find('api_key.revoked', (e) => inTenant(e) && byAlice(e) && e.target_id === rotated.id);
    find('openrouter_key.provisioned', (e) => e.target_id === ids.alice && e.actor_type === 'system');
    find('openrouter_key.provisioning_failed', (e) => e.target_id === ids.carol);
    find('openrouter_key.auto_renewed', (e) => e.target_id === ids.alice);
    find('openrouter_key.refreshed', (e) => e.target_id === ids.alice && byAlice(e));
    assert.ok(find('openrouter_key.deleted').length >= 2, 'the renewed and the refreshed keys deleted upstream');
    find('user.deactivated', (e) => e.target_id === ids.carol && e.actor_type === 'webhook' && e.actor_id === msgId);

    for (const e of events) {
      assert.match(e.id, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(e.created_at)));
      assert.ok(['user', 'api_key', 'system', 'webhook', 'cli'].includes(e.actor_type));
    }
    const httpEvents = events.filter((e) => e.actor_type === 'user' && e.tenant_id === tenantId);
    assert.ok(
      httpEvents.every((e) => e.request_id),
      'changes made over HTTP carry their request id',
    );
  });

  it('holds no secret: no OpenRouter key, tenant API key, Clerk token or provisioning key', () => {
    assert.ok(events.length > 15);
    const text = JSON.stringify(events);
    for (const secret of secrets)
      assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 10)}…) appears in the audit trail`);
    assert.doesNotMatch(text, /sk-or-v1-[0-9a-f]{16,}/, 'an unmasked OpenRouter key');
    assert.doesNotMatch(text, /umk_[A-Za-z0-9_-]{20,}/, 'an unmasked tenant API key');
    assert.doesNotMatch(text, /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/, 'a JWT');
    assert.doesNotMatch(text, /whsec_/, 'the webhook secret');
  });
});
