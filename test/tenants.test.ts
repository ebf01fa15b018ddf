/** Tenants and members over HTTP (Clerk users): CRUD, roles on the path tenant, pending users, last owner, audit. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const ADMIN_SUB = `user_platform_admin_${randomBytes(4).toString('hex')}`;

interface Person {
  session: () => Record<string, string>;
  userId: string;
  personalTenantId: string;
  email: string;
}

const suffix = () => randomBytes(4).toString('hex');

describe('tenants and members', () => {
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

  async function signIn(overrides: Parameters<typeof newClerkUser>[0] = {}): Promise<Person> {
    const claims = newClerkUser(overrides);
    const session = fixedSession(claims);
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id, personalTenantId: me.body.tenant.id, email: claims.email };
  }

  function call(
    who: Person,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<AppResponse> {
    return app.request(method, path, { headers: { ...who.session(), ...headers }, body });
  }

  async function newTenant(owner: Person, name = 'Acme'): Promise<{ id: string; slug: string }> {
    const res = await call(owner, 'POST', '/api/tenants', { name, slug: `acme-${suffix()}` });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  async function addMember(owner: Person, tenantId: string, who: Person, role: string): Promise<void> {
    const res = await call(owner, 'POST', `/api/tenants/${tenantId}/members`, { user_id: who.userId, role });
    assert.equal(res.status, 201, res.text);
  }

  /** The same id with its first digit changed: an id of no tenant this user is in. */
  function otherUuid(id: string): string {
    return (id[0] === '0' ? '1' : '0') + id.slice(1);
  }

  function expectError(res: AppResponse, status: number, code: string, what = ''): void {
    assert.equal(res.status, status, `${what} ${res.text}`);
    assert.equal(res.body.code, code, what);
    assert.ok(res.body.request_id, 'errors carry the request id');
  }

  it('creates, lists, reads, renames and deletes a tenant, writing audit events in the same request', async () => {
    const owner = await signIn();
    const slug = `acme-${suffix()}`;
    const created = await call(
      owner,
      'POST',
      '/api/tenants',
      { name: '  Acme Inc.  ', slug },
      { 'x-request-id': `create-${slug}` },
    );
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['created_at', 'id', 'name', 'role', 'slug']);
    assert.deepEqual([created.body.name, created.body.slug, created.body.role], ['Acme Inc.', slug, 'owner']);
    const tenantId = created.body.id;

    expectError(await call(owner, 'POST', '/api/tenants', { name: 'Other', slug }), 409, 'slug_taken', 'same slug');
    const derived = await call(owner, 'POST', '/api/tenants', { name: 'Acme Inc.' });
    assert.equal(derived.status, 201, derived.text);
    assert.match(derived.body.slug, /^acme-inc(-[0-9a-f]{6})?$/);
    const again = await call(owner, 'POST', '/api/tenants', { name: 'Acme Inc.' });
    assert.equal(again.status, 201, 'a derived slug that is taken gets a suffix');
    assert.notEqual(again.body.slug, derived.body.slug);

    for (const [body, field] of [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', slug: 'Not A Slug' }, 'slug'],
      [{ name: 'x', extra: 1 }, 'extra'],
    ] as const) {
      const res = await call(owner, 'POST', '/api/tenants', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body.details.fields.includes(field), `${JSON.stringify(body)} names ${field}: ${res.text}`);
    }
    expectError(
      await call(owner, 'POST', '/api/tenants', { name: 'x', slug: '0b7c2a1e-1f0e-4f6a-9d8b-2d3c4b5a6f70' }),
      400,
      'invalid_slug',
    );

    const list = await call(owner, 'GET', '/api/tenants');
    assert.equal(list.status, 200);
    const mine = new Map(list.body.map((t: any) => [t.id, t]));
    assert.equal((mine.get(owner.personalTenantId) as any).role, 'owner');
    assert.deepEqual(mine.get(tenantId), created.body);

    const read = await call(owner, 'GET', `/api/tenants/${tenantId}`);
    // One tenant shows its budget over all its keys too (none by default, counted per month).
    assert.deepEqual(
      [read.status, read.body],
      [200, { ...created.body, budget_usd: null, budget_period: 'month', spent_usd: 0 }],
    );

    const renamed = await call(owner, 'PATCH', `/api/tenants/${tenantId}`, { name: 'Acme Corp' });
    assert.deepEqual([renamed.status, renamed.body.name, renamed.body.slug], [200, 'Acme Corp', slug]);
    expectError(
      await call(owner, 'PATCH', `/api/tenants/${tenantId}`, { name: 'x', slug: 'y' }),
      400,
      'validation_failed',
    );

    // X-Tenant-ID selects the active tenant, by id or slug; a tenant the user is not in is a 403.
    const viaSlug = await call(owner, 'GET', '/api/users/me', undefined, { 'x-tenant-id': slug });
    assert.deepEqual([viaSlug.status, viaSlug.body.tenant.id, viaSlug.body.tenant.name], [200, tenantId, 'Acme Corp']);
    expectError(
      await call(owner, 'GET', '/api/users/me', undefined, { 'x-tenant-id': otherUuid(derived.body.id) }),
      403,
      'tenant_mismatch',
    );

    const events = await call(owner, 'GET', `/api/tenants/${tenantId}/audit-events`);
    assert.equal(events.status, 200, events.text);
    const createdEvent = events.body.data.find((e: any) => e.action === 'tenant.created');
    assert.deepEqual(
      [createdEvent.actor_type, createdEvent.actor_id, createdEvent.request_id],
      ['user', owner.userId, `create-${slug}`],
    );
    const updatedEvent = events.body.data.find((e: any) => e.action === 'tenant.updated');
    assert.deepEqual(updatedEvent.metadata.name, { from: 'Acme Inc.', to: 'Acme Corp' });

    expectError(await call(owner, 'DELETE', `/api/tenants/${owner.personalTenantId}`), 409, 'personal_tenant');
    const deleted = await call(owner, 'DELETE', `/api/tenants/${tenantId}`);
    assert.equal(deleted.status, 204, deleted.text);
    expectError(await call(owner, 'GET', `/api/tenants/${tenantId}`), 404, 'not_found', 'deleted tenant');
    expectError(await call(owner, 'DELETE', `/api/tenants/${tenantId}`), 404, 'not_found', 'deleted twice');
    assert.ok(!(await call(owner, 'GET', '/api/tenants')).body.some((t: any) => t.id === tenantId));
    const meAfter = await call(owner, 'GET', '/api/users/me');
    assert.ok(!meAfter.body.tenants.some((t: any) => t.id === tenantId), 'the cached tenant list follows the deletion');

    const admin = fixedSession(newClerkUser({ sub: ADMIN_SUB }));
    const trail = await app.request('GET', `/api/admin/audit-events?tenant_id=${tenantId}`, { headers: admin() });
    assert.equal(trail.status, 200, trail.text);
    assert.deepEqual(trail.body.data.map((e: any) => e.action).sort(), [
      'tenant.created',
      'tenant.deleted',
      'tenant.updated',
    ]);
  });

  it('authorizes on the tenant in the path: a non-member gets 404, a member without the role 403', async () => {
    const owner = await signIn();
    const admin = await signIn();
    const member = await signIn();
    const outsider = await signIn();
    const other = await signIn();
    const tenant = await newTenant(owner);
    await addMember(owner, tenant.id, admin, 'admin');
    await addMember(owner, tenant.id, member, 'member');
    const t = `/api/tenants/${tenant.id}`;

    const everyRoute: [string, string, unknown?][] = [
      ['GET', t],
      ['PATCH', t, { name: 'Nope' }],
      ['DELETE', t],
      ['GET', `${t}/members`],
      ['POST', `${t}/members`, { user_id: other.userId, role: 'member' }],
      ['PATCH', `${t}/members/${member.userId}`, { role: 'admin' }],
      ['DELETE', `${t}/members/${member.userId}`],
      ['GET', `${t}/api-keys`],
      ['POST', `${t}/api-keys`, { name: 'k' }],
    ];
    for (const [method, path, body] of everyRoute) {
      expectError(await call(outsider, method, path, body), 404, 'not_found', `outsider ${method} ${path}`);
    }
    for (const bad of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      expectError(await call(owner, 'GET', `/api/tenants/${bad}`), 404, 'not_found', bad);
      expectError(await call(owner, 'GET', `/api/tenants/${bad}/members`), 404, 'not_found', bad);
    }

    assert.equal((await call(member, 'GET', t)).body.role, 'member');
    assert.equal((await call(member, 'GET', `${t}/members`)).status, 200);
    for (const [method, path, body] of everyRoute.filter(
      ([m, p]) => !(m === 'GET' && (p === t || p === `${t}/members`)),
    )) {
      expectError(await call(member, method, path, body), 403, 'forbidden', `member ${method} ${path}`);
    }

    // Admins manage the tenant and its members, but not the owner role, and cannot delete the tenant.
    expectError(await call(admin, 'DELETE', t), 403, 'forbidden', 'admin deletes');
    assert.equal((await call(admin, 'PATCH', t, { name: 'By admin' })).status, 200);
    expectError(
      await call(admin, 'POST', `${t}/members`, { user_id: other.userId, role: 'owner' }),
      403,
      'forbidden',
      'admin grants owner',
    );
    expectError(
      await call(admin, 'PATCH', `${t}/members/${member.userId}`, { role: 'owner' }),
      403,
      'forbidden',
      'admin promotes to owner',
    );
    expectError(
      await call(admin, 'PATCH', `${t}/members/${owner.userId}`, { role: 'member' }),
      403,
      'forbidden',
      'admin demotes owner',
    );
    expectError(await call(admin, 'DELETE', `${t}/members/${owner.userId}`), 403, 'forbidden', 'admin removes owner');
    const promoted = await call(admin, 'PATCH', `${t}/members/${member.userId}`, { role: 'admin' });
    assert.deepEqual([promoted.status, promoted.body.role], [200, 'admin']);
    assert.equal((await call(admin, 'PATCH', `${t}/members/${member.userId}`, { role: 'member' })).status, 200);

    // The member's own view follows role changes at once (cached tenants are invalidated).
    const viaHeader = await call(member, 'GET', '/api/users/me', undefined, { 'x-tenant-id': tenant.id });
    assert.deepEqual([viaHeader.status, viaHeader.body.tenant.role], [200, 'member']);
  });

  it("refuses another tenant's member ids with 404, on every member route", async () => {
    const ownerA = await signIn();
    const ownerB = await signIn();
    const tenantA = await newTenant(ownerA, 'A');
    const tenantB = await newTenant(ownerB, 'B');
    const memberB = await signIn();
    await addMember(ownerB, tenantB.id, memberB, 'member');
    const a = `/api/tenants/${tenantA.id}/members`;
    expectError(
      await call(ownerA, 'PATCH', `${a}/${memberB.userId}`, { role: 'admin' }),
      404,
      'not_found',
      'PATCH B member via A',
    );
    expectError(await call(ownerA, 'DELETE', `${a}/${memberB.userId}`), 404, 'not_found', 'DELETE B member via A');
    expectError(await call(ownerA, 'PATCH', `${a}/not-a-uuid`, { role: 'admin' }), 404, 'not_found');
    expectError(
      await call(ownerA, 'GET', `/api/tenants/${tenantB.id}/members`),
      404,
      'not_found',
      'B members via A owner',
    );
    const listA = await call(ownerA, 'GET', a);
    assert.deepEqual(
      listA.body.map((m: any) => m.user_id),
      [ownerA.userId],
      'only A members',
    );
    const listB = await call(ownerB, 'GET', `/api/tenants/${tenantB.id}/members`);
    assert.deepEqual(listB.body.find((m: any) => m.user_id === memberB.userId).role, 'member', 'B member untouched');
  });

  it('adds members by email or user id; an unknown email is a pending user who joins at first sign-in', async () => {
    const owner = await signIn();
    const tenant = await newTenant(owner);
    const m = `/api/tenants/${tenant.id}/members`;
    const invitedEmail = `Invitee.${suffix()}@Example.test`;

    const invited = await call(
      owner,
      'POST',
      m,
      { email: invitedEmail, role: 'admin' },
      { 'x-request-id': `invite-${tenant.id}` },
    );
    assert.equal(invited.status, 201, invited.text);
    assert.deepEqual(Object.keys(invited.body).sort(), ['email', 'joined_at', 'role', 'status', 'user_id']);
    assert.deepEqual(
      [invited.body.email, invited.body.role, invited.body.status],
      [invitedEmail.toLowerCase(), 'admin', 'pending'],
    );
    expectError(await call(owner, 'POST', m, { email: invitedEmail.toUpperCase() }), 409, 'already_member');

    const known = await signIn();
    const byEmail = await call(owner, 'POST', m, { email: known.email });
    assert.deepEqual(
      [byEmail.status, byEmail.body.user_id, byEmail.body.role, byEmail.body.status],
      [201, known.userId, 'member', 'active'],
    );
    expectError(await call(owner, 'POST', m, { user_id: known.userId, role: 'member' }), 409, 'already_member');

    expectError(
      await call(owner, 'POST', m, { user_id: '00000000-0000-4000-8000-000000000000', role: 'member' }),
      404,
      'not_found',
    );
    for (const body of [
      {},
      { role: 'member' },
      { email: 'not-an-email' },
      { user_id: 'nope' },
      { email: 'a@b.test', role: 'boss' },
    ]) {
      assert.equal((await call(owner, 'POST', m, body)).status, 400, JSON.stringify(body));
    }
    expectError(await call(owner, 'POST', m, { email: 'a@b.test', user_id: known.userId }), 400, 'validation_failed');

    // The invitee signs in with Clerk for the first time: the login hook claims the pending user.
    const invitee = await signIn({ email: invitedEmail.toLowerCase() });
    assert.equal(invitee.userId, invited.body.user_id, 'the pending user became the signed-in user');
    const theirTenants = await call(invitee, 'GET', '/api/tenants');
    assert.equal(theirTenants.body.find((t: any) => t.id === tenant.id)?.role, 'admin');
    const members = await call(owner, 'GET', m);
    assert.equal(members.body.find((x: any) => x.user_id === invitee.userId).status, 'active');
    assert.equal((await call(invitee, 'PATCH', `/api/tenants/${tenant.id}`, { name: 'By the invitee' })).status, 200);

    const events = (await call(owner, 'GET', `/api/tenants/${tenant.id}/audit-events?action=member.added`)).body.data;
    const inviteEvent = events.find((e: any) => e.target_id === invited.body.user_id);
    assert.deepEqual(
      [inviteEvent.request_id, inviteEvent.metadata.role, inviteEvent.metadata.pending],
      [`invite-${tenant.id}`, 'admin', true],
    );
  });

  it('keeps the last owner: neither removed nor demoted', async () => {
    const owner = await signIn();
    const second = await signIn();
    const tenant = await newTenant(owner);
    const m = `/api/tenants/${tenant.id}/members`;
    expectError(await call(owner, 'DELETE', `${m}/${owner.userId}`), 409, 'last_owner', 'remove last owner');
    expectError(
      await call(owner, 'PATCH', `${m}/${owner.userId}`, { role: 'admin' }),
      409,
      'last_owner',
      'demote last owner',
    );
    const same = await call(owner, 'PATCH', `${m}/${owner.userId}`, { role: 'owner' });
    assert.equal(same.status, 200, 'setting the same role is a no-op');

    await addMember(owner, tenant.id, second, 'member');
    const promoted = await call(owner, 'PATCH', `${m}/${second.userId}`, { role: 'owner' });
    assert.deepEqual([promoted.status, promoted.body.role], [200, 'owner']);
    const demoted = await call(second, 'PATCH', `${m}/${owner.userId}`, { role: 'admin' });
    assert.deepEqual([demoted.status, demoted.body.role], [200, 'admin']);
    expectError(await call(second, 'DELETE', `${m}/${second.userId}`), 409, 'last_owner', 'the new last owner');
    assert.equal((await call(second, 'DELETE', `${m}/${owner.userId}`)).status, 204);
    expectError(
      await call(owner, 'GET', `/api/tenants/${tenant.id}`),
      404,
      'not_found',
      'a removed member no longer sees the tenant',
    );
    expectError(await call(second, 'DELETE', `${m}/${owner.userId}`), 404, 'not_found', 'removed twice');

    const actions = (await call(second, 'GET', `/api/tenants/${tenant.id}/audit-events`)).body.data.map(
      (e: any) => e.action,
    );
    for (const action of ['tenant.created', 'member.added', 'member.role_changed', 'member.removed'])
      assert.ok(actions.includes(action), action);

    // Concurrent demotions of the two owners: one wins, the tenant keeps an owner.
    const third = await signIn();
    await addMember(second, tenant.id, third, 'owner');
    const raced = await Promise.all([
      call(second, 'PATCH', `${m}/${third.userId}`, { role: 'member' }),
      call(third, 'PATCH', `${m}/${second.userId}`, { role: 'member' }),
    ]);
    // The loser is refused either by the guard (already demoted: 403) or by the last-owner check (409).
    assert.equal(raced.filter((r) => r.status === 200).length, 1, raced.map((r) => r.text).join(' | '));
    assert.ok(raced.some((r) => r.body?.code === 'last_owner' || r.body?.code === 'forbidden'));
    const owners = (await call(raced[0].status === 200 ? second : third, 'GET', m)).body.filter(
      (x: any) => x.role === 'owner',
    );
    assert.equal(owners.length, 1);
  });
});
