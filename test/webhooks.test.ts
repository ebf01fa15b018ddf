/**
 * Clerk webhooks at POST /api/webhooks/clerk: Svix signatures (good, bad, stale, replayed) and the events the
 * contract lists, observed through the admin routes, the user's own view and the audit trail.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'svix';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser, sessionHeaders } from './support/users';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/** Headers Svix would send for `body`, signed with `secret` at `at`. */
function svixHeaders(body: string, opts: { id?: string; at?: Date; secret?: string } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const at = opts.at ?? new Date();
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': new Webhook(opts.secret ?? SECRET).sign(id, at, body),
  };
}

function clerkUser(id: string, email: string, first: string, last = 'Hopper') {
  return {
    id,
    object: 'user',
    email_addresses: [
      { id: 'idn_other', email_address: `other-${email}` },
      { id: 'idn_primary', email_address: email },
    ],
    primary_email_address_id: 'idn_primary',
    first_name: first,
    last_name: last,
    image_url: 'https://img.example/u.png',
  };
}

function membership(orgId: string, userId: string, role: string, email: string | null = null) {
  return {
    id: `orgmem_${randomUUID().slice(0, 8)}`,
    object: 'organization_membership',
    role,
    organization: { id: orgId, name: 'Org from membership', slug: null },
    public_user_data: { user_id: userId, identifier: email, first_name: 'Mem', last_name: 'Ber' },
  };
}

describe('Clerk webhooks', () => {
  const fake = new FakeOpenRouter();
  const admin = newClerkUser();
  let app: TestApp;
  const adminHeaders = () => sessionHeaders(admin);

  const send = async (
    type: string,
    data: unknown,
    opts: { id?: string; at?: Date; secret?: string } = {},
  ): Promise<AppResponse> => {
    const body = JSON.stringify({ type, object: 'event', data, timestamp: Date.now() });
    return app.request('POST', '/api/webhooks/clerk', { headers: svixHeaders(body, opts), body });
  };
  const adminUser = async (email: string) => {
    const res = await app.request('GET', `/api/admin/users?email=${encodeURIComponent(email)}`, {
      headers: adminHeaders(),
    });
    assert.equal(res.status, 200, res.text);
    return res.body.data[0] ?? null;
  };
  const tenantOfOrg = async (orgId: string) => {
    const res = await app.request('GET', '/api/admin/tenants?limit=200', { headers: adminHeaders() });
    assert.equal(res.status, 200, res.text);
    return res.body.data.find((t: { clerk_org_id: string | null }) => t.clerk_org_id === orgId) ?? null;
  };
  const auditOf = async (tenantIdOrNothing?: string) => {
    const q = tenantIdOrNothing ? `&tenant_id=${tenantIdOrNothing}` : '';
    const res = await app.request('GET', `/api/admin/audit-events?limit=200${q}`, { headers: adminHeaders() });
    assert.equal(res.status, 200, res.text);
    return res.body.data as {
      action: string;
      actor_type: string;
      actor_id: string | null;
      target_id: string | null;
      metadata: any;
    }[];
  };

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: { CLERK_WEBHOOK_SIGNING_SECRET: SECRET, PLATFORM_ADMIN_USER_IDS: admin.sub },
    });
  });

  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it('applies a correctly signed user.created and user.updated', async () => {
    const clerkId = `user_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const email = `${clerkId}@hooks.test`;
    const created = await send('user.created', clerkUser(clerkId, email, 'Grace'));
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.body, { received: true, status: 'applied' });
    let user = await adminUser(email);
    assert.equal(user.clerk_user_id, clerkId);
    assert.deepEqual([user.first_name, user.last_name, user.status], ['Grace', 'Hopper', 'active']);

    const updated = await send('user.updated', clerkUser(clerkId, email, 'Amazing', 'Grace'));
    assert.deepEqual(updated.body, { received: true, status: 'applied' });
    user = await adminUser(email);
    assert.deepEqual([user.first_name, user.last_name], ['Amazing', 'Grace']);
  });

  it('refuses bad, tampered, stale and unsigned deliveries with 400 invalid_webhook_signature, changing nothing', async () => {
    const clerkId = `user_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const email = `${clerkId}@hooks.test`;
    assert.equal((await send('user.created', clerkUser(clerkId, email, 'Before'))).status, 200);

    const body = JSON.stringify({ type: 'user.updated', object: 'event', data: clerkUser(clerkId, email, 'After') });
    const attempts: Record<string, Record<string, string>> = {
      'other secret': svixHeaders(body, { secret: OTHER_SECRET }),
      stale: svixHeaders(body, { at: new Date(Date.now() - 6 * 60_000) }),
      'from the future': svixHeaders(body, { at: new Date(Date.now() + 6 * 60_000) }),
      'no signature': (() => {
        const h = svixHeaders(body);
        delete h['svix-signature'];
        return h;
      })(),
      'signature of another body': svixHeaders(body.replace('After', 'Other')),
      'garbage signature': { ...svixHeaders(body), 'svix-signature': 'v1,bm90IGEgc2lnbmF0dXJl' },
    };
    for (const [why, headers] of Object.entries(attempts)) {
      const res = await app.request('POST', '/api/webhooks/clerk', { headers, body });
      assert.equal(res.status, 400, `${why}: ${res.text}`);
      assert.equal(res.body.code, 'invalid_webhook_signature', why);
      assert.ok(res.body.request_id, why);
    }
    assert.equal((await adminUser(email)).first_name, 'Before', 'nothing was applied');
  });

  it('applies each svix-id once: a redelivery is acknowledged and changes nothing', async () => {
    const clerkId = `user_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const email = `${clerkId}@hooks.test`;
    const id = `msg_${randomUUID().replace(/-/g, '')}`;
    const first = await send('user.created', clerkUser(clerkId, email, 'Once'), { id });
    assert.deepEqual(first.body, { received: true, status: 'applied' });
    // Same id, signed again (Svix signs each attempt), even with another body: not applied again.
    const again = await send('user.created', clerkUser(clerkId, email, 'Twice'), { id });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, { received: true, status: 'duplicate' });
    assert.equal((await adminUser(email)).first_name, 'Once');
  });

  it('acknowledges and ignores unknown event types', async () => {
    const res = await send('session.created', { id: 'sess_123', user_id: 'user_123' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { received: true, status: 'ignored' });
  });

  it('mirrors organizations and memberships, audited with the webhook as actor', async () => {
    const orgId = `org_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const slug = `acme-${randomUUID().slice(0, 6)}`;
    const orgCreated = await send(
      'organization.created',
      { id: orgId, object: 'organization', name: 'Acme Inc', slug },
      { id: `msg_org_${orgId}` },
    );
    assert.deepEqual(orgCreated.body, { received: true, status: 'applied' });
    let tenant = await tenantOfOrg(orgId);
    assert.deepEqual([tenant.name, tenant.slug, tenant.members], ['Acme Inc', slug, 0]);

    assert.deepEqual(
      (await send('organization.updated', { id: orgId, name: 'Acme Corporation', slug })).body.status,
      'applied',
    );
    tenant = await tenantOfOrg(orgId);
    assert.equal(tenant.name, 'Acme Corporation');

    // A user already signed in (personal tenant) gets the organization's tenant in their own view.
    const member = newClerkUser();
    const session = fixedSession(member);
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.tenants.length, 1);

    assert.equal(
      (await send('organizationMembership.created', membership(orgId, member.sub, 'org:admin', member.email))).body
        .status,
      'applied',
    );
    let after = await app.request('GET', '/api/users/me', { headers: session() });
    assert.deepEqual(
      after.body.tenants.find((t: { id: string }) => t.id === tenant.id),
      { id: tenant.id, name: 'Acme Corporation', slug, role: 'admin' },
      'the membership shows at once (caches invalidated)',
    );

    assert.equal(
      (await send('organizationMembership.updated', membership(orgId, member.sub, 'org:member', member.email))).body
        .status,
      'applied',
    );
    after = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(after.body.tenants.find((t: { id: string }) => t.id === tenant.id).role, 'member');

    // A member Clerk tells us about before their first sign-in is created from the public user data.
    const newcomer = `user_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const newcomerEmail = `${newcomer}@hooks.test`;
    assert.equal(
      (await send('organizationMembership.created', membership(orgId, newcomer, 'basic_member', newcomerEmail))).body
        .status,
      'applied',
    );
    const newcomerRow = await adminUser(newcomerEmail);
    assert.equal(newcomerRow.clerk_user_id, newcomer);
    assert.deepEqual(
      newcomerRow.tenants.map((t: { id: string; role: string }) => [t.id, t.role]),
      [[tenant.id, 'member']],
    );

    assert.equal(
      (await send('organizationMembership.deleted', membership(orgId, member.sub, 'org:member'))).body.status,
      'applied',
    );
    after = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(
      after.body.tenants.find((t: { id: string }) => t.id === tenant.id),
      undefined,
    );
    assert.equal((await tenantOfOrg(orgId)).members, 1);

    const trail = await auditOf(tenant.id);
    const actions = trail.map((e) => e.action).reverse();
    assert.deepEqual(actions, [
      'tenant.created',
      'tenant.updated',
      'member.added',
      'member.role_changed',
      'member.added',
      'member.removed',
    ]);
    assert.ok(
      trail.every((e) => e.actor_type === 'webhook' && e.actor_id?.startsWith('msg_')),
      'actor is the webhook delivery',
    );
    assert.equal(trail.at(-1)!.actor_id, `msg_org_${orgId}`);
    assert.deepEqual(trail.find((e) => e.action === 'member.role_changed')!.metadata, { from: 'admin', to: 'member' });

    assert.equal(
      (await send('organization.deleted', { id: orgId, object: 'organization', deleted: true })).body.status,
      'applied',
    );
    assert.equal(await tenantOfOrg(orgId), null);
    assert.equal((await auditOf(tenant.id))[0].action, 'tenant.deleted');
    // Deleting again: nothing left to delete, acknowledged.
    assert.deepEqual((await send('organization.deleted', { id: orgId, deleted: true })).body, {
      received: true,
      status: 'unchanged',
    });
  });

  it('user.deleted deactivates the user, revokes their API keys and deletes their OpenRouter key upstream', async () => {
    const victim = newClerkUser();
    const me = await app.request('GET', '/api/users/me', { headers: sessionHeaders(victim) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.openrouter_key_status, 'active');
    const upstream = fake.keys.find((k) => k.key === me.body.openrouter_api_key)!;
    assert.ok(upstream && !upstream.deleted);

    // An API key acting as the user.
    const tenantId = me.body.tenant.id;
    const created = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
      headers: sessionHeaders(victim),
      body: { name: 'doomed' },
    });
    const apiKey: string | null = created.status === 201 ? created.body.key : null;
    if (apiKey)
      assert.equal((await app.request('GET', '/api/v1/models', { headers: { 'x-api-key': apiKey } })).status, 200);

    const res = await send('user.deleted', { id: victim.sub, object: 'user', deleted: true });
    assert.deepEqual(res.body, { received: true, status: 'applied' });

    const row = await adminUser(victim.email);
    assert.equal(row.status, 'deactivated');
    assert.equal(row.openrouter_key.status, 'disabled');
    assert.equal(row.openrouter_key.hash, null);
    assert.ok(fake.keys.find((k) => k.hash === upstream.hash)!.deleted, 'deleted upstream');
    const login = await app.request('GET', '/api/users/me', { headers: sessionHeaders(victim) });
    assert.deepEqual([login.status, login.body.code], [403, 'user_deactivated']);
    assert.ok(
      !fake.keys.some((k) => k.name.startsWith(`umb:${row.id}:`) && !k.deleted),
      'no new key provisioned at the refused login',
    );
    if (apiKey) {
      const refused = await app.request('GET', '/api/v1/models', { headers: { 'x-api-key': apiKey } });
      assert.deepEqual([refused.status, refused.body.code ?? refused.body.error?.code], [401, 'api_key_revoked']);
    }

    const trail = (await auditOf()).filter((e) => e.target_id === row.id || e.target_id === upstream.hash);
    const deactivated = trail.find((e) => e.action === 'user.deactivated')!;
    assert.equal(deactivated.actor_type, 'webhook');
    assert.equal(deactivated.metadata.openrouter_key_hash, upstream.hash);
    if (apiKey) {
      const revoked = (await auditOf(tenantId)).find((e) => e.action === 'api_key.revoked')!;
      assert.deepEqual([revoked.actor_type, revoked.metadata.reason], ['webhook', 'user_deleted']);
    }
    assert.ok(trail.some((e) => e.action === 'openrouter_key.deleted' && e.target_id === upstream.hash));

    // Redelivery of another user.deleted for the same user: acknowledged, nothing more to do.
    assert.deepEqual((await send('user.deleted', { id: victim.sub, deleted: true })).body.status, 'unchanged');
  });
});
