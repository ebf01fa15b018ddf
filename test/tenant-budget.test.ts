/**
 * A tenant's USD budget over all its keys, over HTTP against the fake OpenRouter: set by an owner only (an
 * admin may still rename), shown on GET /api/tenants/{id} and /api/v1/me, and enforced for every key of the
 * tenant together with 429 tenant_budget_exceeded, sequentially and concurrently, without reaching OpenRouter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';
import { chatBody, eventually, keyHeaders, postChat } from './gateway-helpers';
import { assertRefused, assertUsd } from './budget-helpers';

const COST = 0.0002;

interface Person {
  session: () => Record<string, string>;
  userId: string;
  openRouterKey: string;
}

describe('tenant budgets (USD)', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake, redis: redisAvailable() });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  async function signIn(): Promise<Person> {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id, openRouterKey: me.body.openrouter_api_key };
  }

  /** A team tenant with an owner and an admin, and a key of each. */
  async function team() {
    const owner = await signIn();
    const admin = await signIn();
    const created = await app.request('POST', '/api/tenants', {
      headers: owner.session(),
      body: { name: 'Budget team' },
    });
    assert.equal(created.status, 201, created.text);
    const tenantId: string = created.body.id;
    const added = await app.request('POST', `/api/tenants/${tenantId}/members`, {
      headers: owner.session(),
      body: { user_id: admin.userId, role: 'admin' },
    });
    assert.equal(added.status, 201, added.text);
    const keyOf = async (p: Person) => {
      const res = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
        headers: p.session(),
        body: { name: 'k', rate_limit_per_minute: 100_000 },
      });
      assert.equal(res.status, 201, res.text);
      return res.body.key as string;
    };
    return { tenantId, owner, admin, ownerKey: await keyOf(owner), adminKey: await keyOf(admin) };
  }

  it('is set by an owner only, shown with the spend, and validated', async () => {
    const t = await team();
    const path = `/api/tenants/${t.tenantId}`;
    const byAdmin = await app.request('PATCH', path, { headers: t.admin.session(), body: { budget_usd: 100 } });
    assert.deepEqual([byAdmin.status, byAdmin.body.code], [403, 'forbidden']);
    const renamed = await app.request('PATCH', path, { headers: t.admin.session(), body: { name: 'Renamed' } });
    assert.deepEqual([renamed.status, renamed.body.name], [200, 'Renamed']);

    const set = await app.request('PATCH', path, {
      headers: t.owner.session(),
      body: { budget_usd: 0.5, budget_period: 'day' },
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.budget_usd, set.body.budget_period, set.body.spent_usd], [0.5, 'day', 0]);
    const read = await app.request('GET', path, { headers: t.admin.session() });
    assert.deepEqual([read.body.budget_usd, read.body.budget_period, read.body.name], [0.5, 'day', 'Renamed']);

    for (const [body, field] of [
      [{ budget_usd: -0.01 }, 'budget_usd'],
      [{ budget_usd: 'lots' }, 'budget_usd'],
      [{ budget_period: 'week' }, 'budget_period'],
      [{ name: '' }, 'name'],
    ] as const) {
      const res = await app.request('PATCH', path, { headers: t.owner.session(), body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(res.body.details.fields.includes(field), `${JSON.stringify(body)} names ${field}`);
    }
  });

  it('stops every key of the tenant together, request after request, and shows on /api/v1/me', async () => {
    fake.setUsage({ cost: COST });
    const t = await team();
    const set = await app.request('PATCH', `/api/tenants/${t.tenantId}`, {
      headers: t.owner.session(),
      body: { budget_usd: 0.001 },
    });
    assert.equal(set.status, 200, set.text);
    // Alternating keys: the fifth request reaches 0.001 for the tenant, whichever key made it.
    for (let i = 0; i < 5; i++) {
      const res = await postChat(app, i % 2 ? t.adminKey : t.ownerKey, chatBody({ stream: i === 4 }));
      assert.equal(res.status, 200, `request ${i + 1}`);
      await res.text();
    }
    const calls = fake.chatCalls;
    for (const key of [t.ownerKey, t.adminKey]) {
      const refused = await postChat(app, key);
      assertRefused(refused.status, await refused.json(), 'tenant_budget_exceeded');
    }
    assert.equal(fake.chatCalls, calls, 'refused requests never reached OpenRouter');
    const tenant = await app.request('GET', `/api/tenants/${t.tenantId}`, { headers: t.owner.session() });
    assertUsd(tenant.body.spent_usd, 0.001, 'spent_usd of the tenant');

    const me = await eventually(
      () => app.request('GET', '/api/v1/me', { headers: keyHeaders(t.adminKey) }),
      (r) => r.body.tenant?.spent_usd !== 0,
      '/api/v1/me tenant.spent_usd',
    );
    assert.deepEqual([me.body.tenant.budget_usd, me.body.tenant.budget_period], [0.001, 'month']);
    assertUsd(me.body.tenant.spent_usd, 0.001, '/api/v1/me tenant.spent_usd');
    assertUsd(me.body.api_key.spent_usd, 0.0004, "/api/v1/me: the admin's key made two of the five");

    // Raised, the budget applies from the next request on (the keys' cached settings were dropped).
    const raised = await app.request('PATCH', `/api/tenants/${t.tenantId}`, {
      headers: t.owner.session(),
      body: { budget_usd: 0.0012 },
    });
    assert.equal(raised.status, 200, raised.text);
    assert.equal((await postChat(app, t.adminKey)).status, 200);
    const again = await postChat(app, t.ownerKey);
    assertRefused(again.status, await again.json(), 'tenant_budget_exceeded');
  });

  it('lets concurrent requests of several keys past the budget only while they were already in flight', async () => {
    fake.setUsage({ cost: COST });
    const t = await team();
    await app.request('PATCH', `/api/tenants/${t.tenantId}`, {
      headers: t.owner.session(),
      body: { budget_usd: 0.001 },
    });
    const workers = 4;
    const before = fake.chatCalls;
    fake.chatDelayMs = 30;
    let served = 0;
    try {
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; i < 8; i++) {
            const res = await postChat(app, w % 2 ? t.adminKey : t.ownerKey, chatBody());
            const body: any = await res.json();
            if (res.status === 200) served++;
            else assertRefused(res.status, body, 'tenant_budget_exceeded');
          }
        }),
      );
    } finally {
      fake.chatDelayMs = 0;
    }
    assert.ok(served >= 5 && served <= 5 + workers - 1, `${served} served for 5 that fit and ${workers - 1} in flight`);
    assert.equal(fake.chatCalls - before, served, 'refused requests never reached OpenRouter');
    const tenant = await app.request('GET', `/api/tenants/${t.tenantId}`, { headers: t.owner.session() });
    assertUsd(tenant.body.spent_usd, served * COST, 'every served request is counted');
  });
});
