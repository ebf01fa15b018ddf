/**
 * A user's OpenRouter budget holds across all their keys: refreshing, renewing on a 401 or an admin's refresh
 * counts what the old key spent (read from OpenRouter) and gives the new key only what is left; a spent budget stops
 * the user until the period turns or a platform admin raises it; what cannot be read fails the replacement.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { chatBody, eventually, keyHeaders, newTenantKey, type TenantKey } from './gateway-helpers';
import {
  createTestDatabase,
  postgresAvailable,
  redisAvailable,
  startApp,
  startCluster,
  type Cluster,
  type TestApp,
  type TestDatabase,
} from './support/app';
import { FakeOpenRouter, type FakeKey } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const REFRESH = '/api/users/me/openrouter-api-key/refresh';

function keysOf(fake: FakeOpenRouter, userId: string): FakeKey[] {
  return fake.keys.filter((k) => k.name.startsWith(`umb:${userId}:`));
}

function liveKeyOf(fake: FakeOpenRouter, userId: string): FakeKey {
  const live = keysOf(fake, userId).filter((k) => !k.deleted);
  assert.equal(live.length, 1, `exactly one live key, not ${live.length}`);
  return live[0];
}

/**
 * What the user can still spend plus what all their keys spent: never more than the budget. A deleted key spends
 * nothing more; the live key can spend up to its limit (in its period) beyond what it spent.
 */
function spendable(fake: FakeOpenRouter, userId: string): number {
  const keys = keysOf(fake, userId);
  const live = keys.filter((k) => !k.deleted);
  const spent = keys.reduce((sum, k) => sum + k.usage, 0);
  return spent + live.reduce((sum, k) => sum + Math.max(0, (k.limit ?? Infinity) - k.usage), 0);
}

function chat(app: TestApp, key: string) {
  return app.request('POST', '/api/v1/chat/completions', { headers: keyHeaders(key), body: chatBody() });
}

/** SQL on the app's database; for the embedded one the app must be stopped. */
async function withDatabase<T>(
  database: TestDatabase,
  run: (sql: (q: string, p?: unknown[]) => Promise<any[]>) => Promise<T>,
): Promise<T> {
  if (database.kind === 'postgres') {
    const client = new Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      return await run(async (q, p) => (await client.query(q, p as unknown[])).rows);
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(path.join(database.env.DATA_DIR, 'pglite'));
  try {
    return await run(async (q, p) => (await db.query(q, p as unknown[])).rows as any[]);
  } finally {
    await db.close();
  }
}

describe('a user OpenRouter budget for life (OPENROUTER_KEY_LIMIT_RESET=none)', () => {
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
  afterEach(() => {
    fake.clearModes();
    fake.setUsage({ cost: 0.0001 });
  });

  const adminRefresh = (userId: string) =>
    app.request('POST', `/api/admin/users/${userId}/openrouter-api-key/refresh`, { headers: asAdmin() });
  const setBudget = (userId: string, usd: unknown) =>
    app.request('PATCH', `/api/admin/users/${userId}`, { headers: asAdmin(), body: { openrouter_budget_usd: usd } });

  it('refresh counts what the old key spent: the new key gets what is left, and /me shows the budget', async () => {
    const session = fixedSession(newClerkUser());
    const first = (await app.request('GET', '/api/users/me', { headers: session() })).body;
    const a = liveKeyOf(fake, first.id);
    assert.equal(a.limit, 15);
    fake.setKeyUsage(a.hash, 4);

    const refreshed = await app.request('POST', REFRESH, { headers: session() });
    assert.equal(refreshed.status, 200, refreshed.text);
    const b = liveKeyOf(fake, first.id);
    assert.notEqual(b.hash, a.hash);
    assert.equal(b.limit, 11, 'the new key may spend only what the old one left');
    assert.equal(refreshed.body.openrouter_key.limit, 11);
    assert.ok(keysOf(fake, first.id).find((k) => k.hash === a.hash)!.deleted, 'the old key is deleted');

    fake.setKeyUsage(b.hash, 2.5);
    assert.equal((await app.request('POST', REFRESH, { headers: session() })).status, 200);
    const c = liveKeyOf(fake, first.id);
    assert.equal(c.limit, 8.5);
    fake.setKeyUsage(c.hash, 0.25);

    const me = await eventually(
      () => app.request('GET', '/api/users/me', { headers: session() }),
      (r) => r.body.openrouter_budget.spent === 6.75,
      'the budget counts every key',
    );
    assert.deepEqual(me.body.openrouter_budget, {
      budget: 15,
      period: 'none',
      spent: 6.75,
      remaining: 8.25,
      period_started_at: null,
    });
    assert.equal(me.body.openrouter_key.usage, 0.25, 'the key fields still describe the current key');
    assert.equal(me.body.openrouter_key.limit_remaining, 8.25);
    assert.ok(spendable(fake, first.id) <= 15 + 1e-9);
  });

  it('renewal on 401 and admin refresh count the old key, too: nobody gets more to spend', async () => {
    const tk = await newTenantKey(app);
    const a = liveKeyOf(fake, tk.userId);
    fake.setKeyUsage(a.hash, 6);
    fake.chatStatusForKey(a.hash, 401);
    const renewed = await chat(app, tk.key);
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal(renewed.headers.get('x-openrouter-key-renewed'), 'true');
    const b = liveKeyOf(fake, tk.userId);
    assert.equal(b.limit, 9);
    assert.equal(b.limitReset, null);

    fake.setKeyUsage(b.hash, 1);
    const byAdmin = await adminRefresh(tk.userId);
    assert.equal(byAdmin.status, 200, byAdmin.text);
    const c = liveKeyOf(fake, tk.userId);
    assert.equal(c.limit, 8);
    assert.ok(spendable(fake, tk.userId) <= 15 + 1e-9);
  });

  it('a spent budget stops the user; a refresh gives nothing back; an admin raising it does, at once', async () => {
    const tk = await newTenantKey(app);
    const a = liveKeyOf(fake, tk.userId);
    fake.setKeyUsage(a.hash, 15);
    const refused = await chat(app, tk.key);
    assert.equal(refused.status, 403, 'OpenRouter refuses a key over its limit; passed on, never renewed');
    assert.equal(liveKeyOf(fake, tk.userId).hash, a.hash);

    assert.equal((await app.request('POST', REFRESH, { headers: tk.session() })).status, 200);
    const b = liveKeyOf(fake, tk.userId);
    assert.equal(b.limit, 0, 'a fresh key does not bring fresh money');
    assert.equal((await chat(app, tk.key)).status, 403);

    const raised = await setBudget(tk.userId, 20);
    assert.equal(raised.status, 200, raised.text);
    assert.equal(raised.body.openrouter_budget_usd, 20);
    assert.equal(raised.body.openrouter_key_limit, 5);
    assert.equal(raised.body.openrouter_budget.budget, 20);
    assert.equal(raised.body.openrouter_budget.spent, 15);
    assert.equal(raised.body.openrouter_budget.remaining, 5);
    assert.equal(liveKeyOf(fake, tk.userId).limit, 5, 'applied upstream at once');
    assert.equal((await chat(app, tk.key)).status, 200);

    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_budget.budget, 20);
    assert.equal(me.body.openrouter_key.limit, 5);

    const back = await setBudget(tk.userId, null);
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.openrouter_budget_usd, null);
    assert.equal(back.body.openrouter_budget.budget, 15, 'null: back to OPENROUTER_KEY_LIMIT');
    assert.equal(liveKeyOf(fake, tk.userId).limit, 0);

    const audit = await app.request('GET', '/api/admin/audit-events?limit=100', { headers: asAdmin() });
    const changes = audit.body.data.filter(
      (e: { action: string; target_id?: string; target?: { id: string } }) =>
        e.action === 'user.budget_changed' && JSON.stringify(e).includes(tk.userId),
    );
    assert.equal(changes.length, 2, 'each change audited');
    for (const key of keysOf(fake, tk.userId)) assert.ok(!JSON.stringify(audit.body).includes(key.key));
  });

  it('an unreadable old-key spend fails the refresh and the renewal with 502 and keeps the old key', async () => {
    const tk = await newTenantKey(app);
    const a = liveKeyOf(fake, tk.userId);
    const created = fake.createdCount;
    fake.setMode('keys.get', { status: 503 });
    const res = await app.request('POST', REFRESH, { headers: tk.session() });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'openrouter_unavailable');
    const byAdmin = await adminRefresh(tk.userId);
    assert.equal(byAdmin.status, 502, byAdmin.text);

    fake.chatStatusForKey(a.hash, 401);
    const renewal = await chat(app, tk.key);
    assert.equal(renewal.status, 502, renewal.text);
    assert.equal(fake.createdCount, created, 'no key was created');
    assert.equal(liveKeyOf(fake, tk.userId).hash, a.hash, 'the old key stays, upstream and stored');
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_api_key, a.key);
  });

  it('concurrent refreshes, admin refreshes and renewals leave one key and never raise the budget', async () => {
    fake.setUsage({ cost: 0 });
    const tk = await newTenantKey(app);
    const a = liveKeyOf(fake, tk.userId);
    fake.setKeyUsage(a.hash, 3);
    fake.chatStatusForKey(a.hash, 401);
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => app.request('POST', REFRESH, { headers: tk.session() })),
      adminRefresh(tk.userId),
      ...Array.from({ length: 4 }, () => chat(app, tk.key)),
    ]);
    for (const r of results) assert.ok([200, 429].includes(r.status), `${r.status} ${r.text}`);
    const live = liveKeyOf(fake, tk.userId);
    assert.equal(live.limit, 12, 'the 3 USD the first key spent stay spent, whoever replaced it');
    assert.ok(spendable(fake, tk.userId) <= 15 + 1e-9);
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_api_key, live.key);
  });

  it('throttles admin refreshes and renewals with the user refresh: 5 replacements a minute per user', async () => {
    const tk = await newTenantKey(app);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await adminRefresh(tk.userId)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const sixth = await adminRefresh(tk.userId);
    assert.equal(sixth.status, 429);
    assert.equal(sixth.body.code, 'rate_limited');
    assert.ok(Number(sixth.headers.get('retry-after')) >= 1);
    assert.equal((await app.request('POST', REFRESH, { headers: tk.session() })).status, 429, 'one rule for all');

    const current = liveKeyOf(fake, tk.userId);
    fake.chatStatusForKey(current.hash, 401);
    const renewal = await chat(app, tk.key);
    assert.equal(renewal.status, 429, renewal.text);
    assert.equal(renewal.body.error.code, 'rate_limited', 'OpenAI shape on the gateway');
    assert.equal(liveKeyOf(fake, tk.userId).hash, current.hash);

    const other = await newTenantKey(app);
    assert.equal((await adminRefresh(other.userId)).status, 200, 'the limit is per user');
  });

  it('validates the budget a platform admin sets, and only lets platform admins set it', async () => {
    const tk = await newTenantKey(app);
    for (const bad of [-1, 'ten', 1e12, true, { usd: 1 }])
      assert.equal((await setBudget(tk.userId, bad)).status, 400, `refuses ${JSON.stringify(bad)}`);
    const missing = await app.request('PATCH', `/api/admin/users/${tk.userId}`, { headers: asAdmin(), body: {} });
    assert.equal(missing.status, 400);
    const extra = await app.request('PATCH', `/api/admin/users/${tk.userId}`, {
      headers: asAdmin(),
      body: { openrouter_budget_usd: 5, email: 'x@example.test' },
    });
    assert.equal(extra.status, 400);
    assert.equal((await setBudget('6d1b3b0e-8a43-4d5e-9a43-0f3c8e1a2b3c', 5)).status, 404);
    assert.equal((await setBudget('not-a-uuid', 5)).status, 404);
    const asUser = await app.request('PATCH', `/api/admin/users/${tk.userId}`, {
      headers: tk.session(),
      body: { openrouter_budget_usd: 1000 },
    });
    assert.equal(asUser.status, 403);
    assert.equal(liveKeyOf(fake, tk.userId).limit, 15, 'nothing changed');

    fake.setMode('keys.update', { status: 503 });
    const down = await setBudget(tk.userId, 30);
    assert.equal(down.status, 502);
    assert.equal(down.body.code, 'openrouter_unavailable');
    fake.clearModes();
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_budget.budget, 15, 'the budget is unchanged when OpenRouter failed');
  });
});

describe('a daily user OpenRouter budget (OPENROUTER_KEY_LIMIT_RESET=daily)', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  let app: TestApp;
  let tk: TenantKey;

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    app = await startApp({
      inProcess: true,
      database,
      openRouter: fake,
      redis: redisAvailable(),
      env: { OPENROUTER_TIMEOUT_MS: '1500', OPENROUTER_KEY_LIMIT: '10', OPENROUTER_KEY_LIMIT_RESET: 'daily' },
    });
    tk = await newTenantKey(app);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
    await fake.stop();
  });

  /** The day turns: OpenRouter's daily usage starts again, and the stored period is yesterday's. */
  async function nextDay(userId: string): Promise<void> {
    await app.stop();
    await withDatabase(database, (sql) =>
      sql(`UPDATE openrouter_keys SET period_started_at = period_started_at - interval '1 day' WHERE user_id = $1`, [
        userId,
      ]),
    );
    fake.startNewPeriod('daily');
    await app.start();
  }

  it('creates keys with the daily period and shows it', async () => {
    const a = liveKeyOf(fake, tk.userId);
    assert.equal(a.limit, 10);
    assert.equal(a.limitReset, 'daily');
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.body.openrouter_key.limit_reset, 'daily');
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    assert.equal(me.body.openrouter_budget.period, 'daily');
    assert.equal(me.body.openrouter_budget.period_started_at, today.toISOString());
  });

  it('a spent daily budget stops the user until the day turns, whatever they refresh', async () => {
    const a = liveKeyOf(fake, tk.userId);
    fake.setKeyUsage(a.hash, 10);
    assert.equal((await chat(app, tk.key)).status, 403);
    assert.equal((await app.request('POST', REFRESH, { headers: tk.session() })).status, 200);
    const b = liveKeyOf(fake, tk.userId);
    assert.equal(b.limit, 0);
    assert.equal((await chat(app, tk.key)).status, 403);

    await nextDay(tk.userId);
    // The gateway's first request of the day brings the key's limit back to the whole budget.
    const res = await chat(app, tk.key);
    assert.equal(res.status, 200, res.text);
    const current = liveKeyOf(fake, tk.userId);
    assert.equal(current.hash, b.hash, 'the same key, its limit raised');
    assert.equal(current.limit, 10);
    assert.equal(current.limitReset, 'daily');
    const me = await eventually(
      () => app.request('GET', '/api/users/me', { headers: tk.session() }),
      (r) => r.body.openrouter_budget.spent !== null,
      'spend read',
    );
    assert.equal(me.body.openrouter_budget.spent, 0.0001, "yesterday's spend no longer counts");
    assert.equal(me.body.openrouter_key.limit, 10);
  });

  it('/me brings the key up to date as well, and the new day counts from zero', async () => {
    const b = liveKeyOf(fake, tk.userId);
    fake.setKeyUsage(b.hash, fake.keys.find((k) => k.hash === b.hash)!.usage + 4); // 4 USD more today
    assert.equal((await app.request('POST', REFRESH, { headers: tk.session() })).status, 200);
    const c = liveKeyOf(fake, tk.userId);
    assert.ok(Math.abs(c.limit! - (10 - 4.0001)) < 1e-4, `what is left today, not ${c.limit}`);

    await nextDay(tk.userId);
    const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal(me.status, 200);
    assert.equal(me.body.openrouter_key.limit, 10);
    assert.equal(liveKeyOf(fake, tk.userId).limit, 10, 'raised upstream');
    const patches = fake.requests.filter((r) => r.route === 'keys.update' && r.path.endsWith(c.hash));
    assert.equal(patches.length, 1, 'one update upstream, not one per request');
    assert.deepEqual(patches[0].body, { limit: 10, limit_reset: 'daily' });
    const updates = fake.requests.filter((r) => r.route === 'keys.update').length;
    await app.request('GET', '/api/users/me', { headers: tk.session() });
    assert.equal((await chat(app, tk.key)).status, 200);
    assert.equal(
      fake.requests.filter((r) => r.route === 'keys.update').length,
      updates,
      'nothing upstream while the period is current',
    );
  });
});

describe(
  'a user budget over two instances',
  { skip: postgresAvailable() && redisAvailable() ? false : 'needs TEST_DATABASE_URL and TEST_REDIS_URL' },
  () => {
    const fake = new FakeOpenRouter();
    const admin = newClerkUser();
    const asAdmin = fixedSession(admin);
    let cluster: Cluster;

    before(async () => {
      await fake.start();
      cluster = await startCluster(2, {
        openRouter: fake,
        redis: true,
        env: { OPENROUTER_TIMEOUT_MS: '1500', PLATFORM_ADMIN_USER_IDS: admin.sub },
      });
      assert.equal((await cluster.apps[1].request('GET', '/api/users/me', { headers: asAdmin() })).status, 200);
    });
    after(async () => {
      await cluster?.stopAll();
      await fake.stop();
    });

    it('concurrent refreshes, admin refreshes and renewals on both instances leave one key, the budget intact', async () => {
      fake.setUsage({ cost: 0 });
      const [one, two] = cluster.apps;
      const tk = await newTenantKey(one);
      const a = liveKeyOf(fake, tk.userId);
      fake.setKeyUsage(a.hash, 3);
      fake.chatStatusForKey(a.hash, 401);
      const results = await Promise.all([
        one.request('POST', REFRESH, { headers: tk.session() }),
        two.request('POST', REFRESH, { headers: tk.session() }),
        two.request('POST', `/api/admin/users/${tk.userId}/openrouter-api-key/refresh`, { headers: asAdmin() }),
        ...[one, two, one, two].map((app) => chat(app, tk.key)),
      ]);
      for (const r of results) assert.ok([200, 429].includes(r.status), `${r.status} ${r.text}`);
      const live = liveKeyOf(fake, tk.userId);
      assert.equal(live.limit, 12, 'the 3 USD the first key spent stay spent, on whichever instance');
      assert.ok(spendable(fake, tk.userId) <= 15 + 1e-9);
      for (const app of [one, two]) {
        const me = await app.request('GET', '/api/users/me', { headers: tk.session() });
        assert.equal(me.body.openrouter_api_key, live.key);
      }
    });
  },
);
