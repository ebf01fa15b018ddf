/**
 * A key acts as the user who created it and never does more than that user could do signed in, judged at
 * each request; the same role rules on the Clerk member routes and on the API-key routes (only an owner
 * grants, changes or removes `owner`; nobody touches their own membership through a key). Each role ×
 * each operation, through both doors.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

interface Person {
  session: () => Record<string, string>;
  userId: string;
}

interface Team {
  tenantId: string;
  owner: Person;
  owner2: Person;
  admin: Person;
  member: Person;
}

type Door = 'clerk' | 'key';

describe('key authority and member role rules', () => {
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

  async function signIn(): Promise<Person> {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id };
  }

  /** A tenant with two owners, an admin and a member, all signed in. */
  async function team(): Promise<Team> {
    const owner = await signIn();
    const tenant = await app.request('POST', '/api/tenants', { headers: owner.session(), body: { name: 'Team' } });
    assert.equal(tenant.status, 201, tenant.text);
    const t = { tenantId: tenant.body.id as string, owner } as Team;
    for (const [field, role] of [
      ['owner2', 'owner'],
      ['admin', 'admin'],
      ['member', 'member'],
    ] as const) {
      const p = await signIn();
      const res = await app.request('POST', `/api/tenants/${t.tenantId}/members`, {
        headers: owner.session(),
        body: { user_id: p.userId, role },
      });
      assert.equal(res.status, 201, res.text);
      t[field] = p;
    }
    return t;
  }

  async function keyOf(t: Team, p: Person, body: Record<string, unknown> = {}): Promise<string> {
    const res = await app.request('POST', `/api/tenants/${t.tenantId}/api-keys`, {
      headers: p.session(),
      body: { name: 'k', ...body },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.key;
  }

  const email = () => `n.${randomBytes(4).toString('hex')}@example.test`;

  /** One membership operation through a door: the Clerk member routes or /api/v1/users with a key. */
  function via(door: Door, t: Team, actor: Person, key: string | null) {
    const call = (method: string, path: string, body?: unknown) =>
      door === 'clerk'
        ? app.request(method, `/api/tenants/${t.tenantId}/members${path}`, { headers: actor.session(), body })
        : app.request(method, `/api/v1/users${path}`, { headers: { 'x-api-key': key! }, body });
    return {
      add: (role: string) => call('POST', '', { email: email(), role }),
      setRole: (userId: string, role: string) => call('PATCH', `/${userId}`, { role }),
      remove: (userId: string) => call('DELETE', `/${userId}`),
    };
  }

  function expect(res: AppResponse, status: number, what: string, code?: string): void {
    assert.equal(res.status, status, `${what}: ${res.text}`);
    if (code) assert.equal(res.body.code, code, what);
  }

  for (const door of ['clerk', 'key'] as const) {
    it(`${door}: an owner grants, changes and removes any role, the owner role included`, async () => {
      const t = await team();
      const ops = via(door, t, t.owner, door === 'key' ? await keyOf(t, t.owner) : null);
      expect(await ops.add('member'), 201, 'add member');
      expect(await ops.add('admin'), 201, 'add admin');
      expect(await ops.add('owner'), 201, 'add owner');
      expect(await ops.setRole(t.member.userId, 'admin'), 200, 'member → admin');
      expect(await ops.setRole(t.member.userId, 'owner'), 200, 'admin → owner');
      expect(await ops.setRole(t.owner2.userId, 'admin'), 200, 'owner → admin');
      expect(await ops.remove(t.admin.userId), 204, 'remove admin');
      expect(await ops.remove(t.member.userId), 204, 'remove an owner (another owner stays)');
    });

    it(`${door}: an admin manages admins and members but never the owner role`, async () => {
      const t = await team();
      const ops = via(door, t, t.admin, door === 'key' ? await keyOf(t, t.admin) : null);
      expect(await ops.add('member'), 201, 'add member');
      expect(await ops.add('admin'), 201, 'add admin');
      expect(await ops.add('owner'), 403, 'add owner', 'forbidden');
      expect(await ops.setRole(t.member.userId, 'admin'), 200, 'member → admin');
      expect(await ops.setRole(t.member.userId, 'owner'), 403, 'grant owner', 'forbidden');
      expect(await ops.setRole(t.owner2.userId, 'member'), 403, 'demote an owner', 'forbidden');
      expect(await ops.remove(t.owner2.userId), 403, 'remove an owner', 'forbidden');
      expect(await ops.remove(t.member.userId), 204, 'remove a member');
    });
  }

  it('clerk: a member manages nobody', async () => {
    const t = await team();
    const ops = via('clerk', t, t.member, null);
    expect(await ops.add('member'), 403, 'add', 'forbidden');
    expect(await ops.setRole(t.admin.userId, 'member'), 403, 'change role', 'forbidden');
    expect(await ops.remove(t.admin.userId), 403, 'remove', 'forbidden');
  });

  it('key: nobody changes or removes their own membership through a key', async () => {
    const t = await team();
    for (const p of [t.owner, t.admin]) {
      const ops = via('key', t, p, await keyOf(t, p));
      expect(await ops.setRole(p.userId, 'member'), 403, 'own role', 'forbidden');
      expect(await ops.setRole(p.userId, 'owner'), 403, 'own promotion', 'forbidden');
      expect(await ops.remove(p.userId), 403, 'own removal', 'forbidden');
    }
    const members = await app.request('GET', `/api/tenants/${t.tenantId}/members`, { headers: t.owner.session() });
    const roles = Object.fromEntries(members.body.map((m: { user_id: string; role: string }) => [m.user_id, m.role]));
    assert.deepEqual([roles[t.owner.userId], roles[t.admin.userId]], ['owner', 'admin'], 'nothing changed');
  });

  it("key: a demoted admin's key loses users:write at the next request (it was warm), and cannot re-promote", async () => {
    const t = await team();
    const key = await keyOf(t, t.admin);
    const ops = via('key', t, t.admin, key);
    expect(await ops.add('member'), 201, 'works while admin');
    expect(await app.request('GET', '/api/v1/users', { headers: { 'x-api-key': key } }), 200, 'warm');
    expect(
      await app.request('PATCH', `/api/tenants/${t.tenantId}/members/${t.admin.userId}`, {
        headers: t.owner.session(),
        body: { role: 'member' },
      }),
      200,
      'the owner demotes the admin',
    );
    expect(await ops.add('member'), 403, 'add after demotion', 'forbidden');
    expect(await ops.setRole(t.member.userId, 'admin'), 403, 'promote after demotion', 'forbidden');
    expect(await ops.setRole(t.admin.userId, 'admin'), 403, 're-promote oneself', 'forbidden');
    expect(await ops.remove(t.member.userId), 403, 'remove after demotion', 'forbidden');
    // Still a member: reading stays what a member may do.
    expect(await app.request('GET', '/api/v1/users', { headers: { 'x-api-key': key } }), 200, 'read as member');
  });

  it("key: a removed member's key answers 401 api_key_revoked", async () => {
    const t = await team();
    const key = await keyOf(t, t.admin);
    expect(await app.request('GET', '/api/v1/me', { headers: { 'x-api-key': key } }), 200, 'warm');
    expect(
      await app.request('DELETE', `/api/tenants/${t.tenantId}/members/${t.admin.userId}`, {
        headers: t.owner.session(),
      }),
      204,
      'removed',
    );
    expect(
      await app.request('GET', '/api/v1/me', { headers: { 'x-api-key': key } }),
      401,
      'after removal',
      'api_key_revoked',
    );
  });

  it('a key acts as its creator: user_id of anyone else is 403, own id or none is fine', async () => {
    const t = await team();
    const path = `/api/tenants/${t.tenantId}/api-keys`;
    for (const other of [t.owner2, t.admin, t.member]) {
      expect(
        await app.request('POST', path, { headers: t.owner.session(), body: { name: 'x', user_id: other.userId } }),
        403,
        'key for another member',
        'forbidden',
      );
    }
    const own = await app.request('POST', path, {
      headers: t.admin.session(),
      body: { name: 'x', user_id: t.admin.userId },
    });
    expect(own, 201, 'own id');
    assert.equal(own.body.user_id, t.admin.userId);
    const none = await app.request('POST', path, { headers: t.admin.session(), body: { name: 'x' } });
    assert.equal(none.body.user_id, t.admin.userId, 'acts as the creator by default');
  });

  it('a pending user (added by email, never signed in) gets no key of either kind', async () => {
    const t = await team();
    const ghostEmail = email();
    const added = await app.request('POST', `/api/tenants/${t.tenantId}/members`, {
      headers: t.owner.session(),
      body: { email: ghostEmail, role: 'member' },
    });
    expect(added, 201, 'ghost added');
    const ghostId = added.body.user_id as string;
    expect(
      await app.request('POST', `/api/tenants/${t.tenantId}/api-keys`, {
        headers: t.owner.session(),
        body: { name: 'ghost', user_id: ghostId, scopes: ['chat'] },
      }),
      403,
      'a key acting as the ghost',
      'forbidden',
    );
    assert.ok(!fake.keys.some((k) => k.name.includes(ghostId)), 'no upstream key was made for the pending user');
  });
});
