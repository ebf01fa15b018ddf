/**
 * Three instances of the API on one PostgreSQL database and one Redis, every check spreading its requests over
 * them: what the contract promises for one process must hold for a fleet behind a load balancer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster, type TestApp } from '../support/app';
import { FakeOpenRouter } from '../support/fake-openrouter';
import { signClerkToken } from '../support/clerk-tokens';
import {
  apiKeyHeaders,
  bearer,
  CHAT_BODY,
  CLUSTER_SKIP,
  createApiKey,
  dbQuery,
  newUserClaims,
  requireRoute,
  signIn,
  spread,
  statusCounts,
  waitFor,
  type SignedIn,
} from './support';

/** The API-key route the key checks use. */
const KEY_ROUTE = '/api/v1/me';

describe('three instances on one PostgreSQL and Redis', { skip: CLUSTER_SKIP }, () => {
  const fake = new FakeOpenRouter();
  let cluster: Cluster;
  let apps: TestApp[];
  let owner: SignedIn;

  before(async () => {
    await fake.start();
    cluster = await startCluster(3, { openRouter: fake, redis: true });
    apps = cluster.apps;
    owner = await signIn(apps[0]);
    await requireRoute(apps[0], 'POST', `/api/tenants/${owner.tenantId}/api-keys`, bearer(owner.token));
    await requireRoute(apps[0], 'POST', '/api/v1/chat/completions');
    await requireRoute(apps[0], 'GET', KEY_ROUTE);
  });

  after(async () => {
    await cluster?.stopAll();
    await fake.stop();
  });

  it('provisions exactly one upstream key for 100 concurrent first requests of a new user over two instances', async () => {
    const claims = newUserClaims('prov');
    const createdBefore = fake.createdCount;
    const deletedBefore = fake.deletedCount;
    // A distinct session per request: 100 logins at once, alternating between instances 0 and 1.
    const responses = await spread(apps.slice(0, 2), 100, (app) =>
      app.request('GET', '/api/users/me', { headers: bearer(signClerkToken(claims)) }),
    );

    assert.deepEqual(statusCounts(responses), { 200: 100 });
    const userId = responses[0].body.id;
    const upstream = fake.keys.filter((k) => k.name.startsWith(`umb:${userId}:`));
    assert.equal(upstream.length, 1, 'one key created upstream for the user');
    assert.equal(fake.createdCount - createdBefore, 1, 'one POST /keys in all');
    assert.equal(fake.deletedCount - deletedBefore, 0, 'nothing created and then thrown away');
    const plaintexts = new Set(responses.map((r) => r.body.openrouter_api_key));
    assert.deepEqual([...plaintexts], [upstream[0].key], 'every response shows that one key');
    assert.ok(responses.every((r) => r.body.openrouter_key_status === 'active'));

    const db = cluster.database;
    const [users] = await dbQuery(
      db,
      `SELECT count(*)::int AS n, max(login_count) AS logins FROM users WHERE clerk_user_id = $1`,
      [claims.sub],
    );
    assert.deepEqual(users, { n: 1, logins: 100 }, 'one user, 100 logins counted');
    const stored = await dbQuery(
      db,
      `SELECT upstream_hash, status FROM openrouter_keys WHERE user_id = $1 AND key_encrypted IS NOT NULL`,
      [userId],
    );
    assert.deepEqual(
      stored,
      [{ upstream_hash: upstream[0].hash, status: 'active' }],
      'one stored key, the upstream one',
    );
    const [tenants] = await dbQuery(db, `SELECT count(*)::int AS n FROM tenants WHERE personal_owner_id = $1`, [
      userId,
    ]);
    assert.equal(tenants.n, 1, 'one personal tenant');
    const [deletions] = await dbQuery(
      db,
      `SELECT count(*)::int AS n FROM openrouter_key_deletions WHERE user_id = $1`,
      [userId],
    );
    assert.equal(deletions.n, 0);
  });

  it('lets exactly 20 of 200 requests through for a key allowed 20 a minute, over three instances', async () => {
    const { key } = await createApiKey(apps[0], owner, { name: 'cluster 20/min', rate_limit_per_minute: 20 });
    // In waves of 50, each wave spread over the three instances, all within one window.
    const responses = [];
    for (let wave = 0; wave < 4; wave++)
      responses.push(
        ...(await spread(apps, 50, (app) => app.request('GET', KEY_ROUTE, { headers: apiKeyHeaders(key) }))),
      );

    assert.deepEqual(statusCounts(responses), { 200: 20, 429: 180 });
    for (const app of apps) {
      assert.ok(
        responses.some((r) => r.status === 200 && r.headers.get('x-ratelimit-limit') === '20'),
        `X-RateLimit-Limit from ${app.port}`,
      );
    }
    const refused = responses.filter((r) => r.status === 429);
    assert.ok(
      refused.every((r) => Number(r.headers.get('retry-after')) > 0),
      'every 429 says when to retry',
    );
    assert.ok(refused.every((r) => (r.body.code ?? r.body.error?.code) === 'rate_limited'));
    assert.ok(refused.every((r) => r.headers.get('x-ratelimit-remaining') === '0'));
  });

  describe('a change to a key takes effect on all three instances from the next request', () => {
    /** A key used once on every instance, so that each has it cached: the change must get past the caches. */
    async function warmKey(name: string) {
      const created = await createApiKey(apps[0], owner, { name, rate_limit_per_minute: 10_000 });
      const keyPath = `/api/tenants/${owner.tenantId}/api-keys/${created.id}`;
      const onAll = () =>
        Promise.all(apps.map((app) => app.request('GET', KEY_ROUTE, { headers: apiKeyHeaders(created.key) })));
      assert.deepEqual(
        (await onAll()).map((r) => r.status),
        [200, 200, 200],
      );
      return { keyPath, onAll };
    }
    const codes = (responses: { body: any }[]) => responses.map((r) => r.body.code ?? r.body.error?.code);

    it('edited (name, rate limit)', async () => {
      const { keyPath, onAll } = await warmKey('cluster edit');
      for (let round = 0; round < 5; round++) {
        const limit = 5000 + round;
        const edited = await apps[round % 3].request('PATCH', keyPath, {
          headers: bearer(owner.token),
          body: { name: `edited ${round}`, rate_limit_per_minute: limit },
        });
        assert.equal(edited.status, 200, edited.text);
        assert.equal(edited.body.rate_limit_per_minute, limit, 'the PATCH answer shows the new limit');
        const seen = await onAll();
        assert.deepEqual(
          seen.map((r) => r.status),
          [200, 200, 200],
        );
        assert.deepEqual(
          seen.map((r) => r.headers.get('x-ratelimit-limit')),
          [String(limit), String(limit), String(limit)],
          `round ${round}: the new limit on every instance`,
        );
        assert.deepEqual(
          seen.map((r) => r.body.api_key.name),
          [`edited ${round}`, `edited ${round}`, `edited ${round}`],
        );
      }
    });

    it('disabled, then enabled again', async () => {
      const { keyPath, onAll } = await warmKey('cluster disable');
      for (let round = 0; round < 5; round++) {
        const disabled = await apps[round % 3].request('PATCH', keyPath, {
          headers: bearer(owner.token),
          body: { is_active: false },
        });
        assert.equal(disabled.status, 200, disabled.text);
        const refused = await onAll();
        assert.deepEqual(
          refused.map((r) => r.status),
          [403, 403, 403],
          `round ${round}: disabled everywhere`,
        );
        assert.deepEqual(codes(refused), ['api_key_disabled', 'api_key_disabled', 'api_key_disabled']);
        const enabled = await apps[(round + 1) % 3].request('PATCH', keyPath, {
          headers: bearer(owner.token),
          body: { is_active: true },
        });
        assert.equal(enabled.status, 200, enabled.text);
        assert.deepEqual(
          (await onAll()).map((r) => r.status),
          [200, 200, 200],
          `round ${round}: enabled again everywhere`,
        );
      }
    });

    it('revoked', async () => {
      for (let round = 0; round < 3; round++) {
        const { keyPath, onAll } = await warmKey(`cluster revoke ${round}`);
        const revoked = await apps[round].request('DELETE', keyPath, { headers: bearer(owner.token) });
        assert.equal(revoked.status, 204, revoked.text);
        const after = await onAll();
        assert.deepEqual(
          after.map((r) => r.status),
          [401, 401, 401],
          `round ${round}: refused everywhere`,
        );
        assert.deepEqual(codes(after), ['api_key_revoked', 'api_key_revoked', 'api_key_revoked']);
      }
    });
  });

  it('renews a revoked upstream key exactly once for 30 concurrent chat requests over three instances, all succeeding', async () => {
    const user = await signIn(apps[1]);
    const { key } = await createApiKey(apps[1], user, { name: 'cluster renewal', rate_limit_per_minute: 10_000 });
    // Each instance uses (and caches) the user's key before it is revoked behind the service's back.
    for (const app of apps)
      assert.equal(
        (await app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(key), body: CHAT_BODY }))
          .status,
        200,
      );
    const oldKey = user.me.openrouter_api_key as string;
    const createdBefore = fake.createdCount;
    fake.revokeKey(oldKey);

    const responses = await spread(apps, 30, (app) =>
      app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(key), body: CHAT_BODY }),
    );

    assert.deepEqual(statusCounts(responses), { 200: 30 });
    assert.ok(responses.every((r) => r.body.choices?.[0]?.message?.content === 'hello from the cluster suite'));
    assert.equal(fake.createdCount - createdBefore, 1, 'one new upstream key for the 30 requests');
    assert.ok(responses.some((r) => r.headers.get('x-openrouter-key-renewed') === 'true'));
    const [row] = await dbQuery(
      cluster.database,
      `SELECT renewal_count, auto_renewed, upstream_hash FROM openrouter_keys WHERE user_id = $1`,
      [user.userId],
    );
    assert.equal(row.renewal_count, 1);
    assert.equal(row.auto_renewed, true);
    const live = fake.liveKeys().filter((k) => k.name.startsWith(`umb:${user.userId}:`));
    assert.deepEqual(
      live.map((k) => k.hash),
      [row.upstream_hash],
      'exactly one live upstream key, the stored one',
    );
    const [events] = await dbQuery(
      cluster.database,
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'openrouter_key.auto_renewed' AND target_id = $1`,
      [user.userId],
    );
    assert.equal(events.n, 1, 'one auto_renewed audit event');
  });

  it('never overshoots a token quota by more than the requests in flight, over three instances', async () => {
    const user = await signIn(apps[2]);
    const quota = 300;
    const perRequest = 30; // the fake's usage: 10 prompt + 20 completion tokens
    const created = await createApiKey(apps[2], user, {
      name: 'cluster quota',
      rate_limit_per_minute: 10_000,
      token_quota: quota,
      quota_period: 'total',
    });
    const body = { ...CHAT_BODY, max_tokens: 20 }; // a small reservation, so that several requests are admitted at once
    const workers = 6; // two in flight per instance at most
    fake.chatDelayMs = 40; // requests overlap
    let served = 0;
    let refusedCode: string | undefined;
    try {
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; i < 20; i++) {
            const res = await apps[w % 3].request('POST', '/api/v1/chat/completions', {
              headers: apiKeyHeaders(created.key),
              body,
            });
            if (res.status === 200) served++;
            else {
              assert.equal(res.status, 429, res.text);
              refusedCode = res.body.error?.code;
              assert.equal(res.body.error?.type, 'insufficient_quota');
            }
          }
        }),
      );
    } finally {
      fake.chatDelayMs = 0;
    }
    assert.equal(refusedCode, 'quota_exceeded');

    const keyPath = `/api/tenants/${user.tenantId}/api-keys/${created.id}`;
    // Settlement is written after the responses: wait until tokens_used stops moving.
    let used = -1;
    for (let i = 0; i < 50; i++) {
      const now = (await apps[0].request('GET', keyPath, { headers: bearer(user.token) })).body.tokens_used;
      if (now === used && now === served * perRequest) break;
      used = now;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(used, served * perRequest, 'tokens_used is exactly what the served requests used');
    assert.ok(used >= quota - perRequest, `the quota was used up (${used} of ${quota})`);
    assert.ok(
      used <= quota + workers * perRequest,
      `overshoot ${used - quota} tokens is at most ${workers} requests in flight`,
    );

    const upstreamBefore = fake.chatCalls;
    const late = await spread(apps, 6, (app) =>
      app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(created.key), body }),
    );
    assert.deepEqual(statusCounts(late), { 429: 6 });
    assert.equal(fake.chatCalls, upstreamBefore, 'refused without reaching OpenRouter');
  });

  it("never lets a key's USD budget overshoot by more than the requests in flight, over three instances", async () => {
    const user = await signIn(apps[1]);
    const cost = 0.0002; // micro-dollar exact: 200 µ$ a request
    const created = await createApiKey(apps[1], user, {
      name: 'cluster budget',
      rate_limit_per_minute: 10_000,
      budget_usd: 0.002, // 10 requests' worth
      budget_period: 'total',
    });
    const workers = 6; // two in flight per instance at most
    fake.setUsage({ cost });
    fake.chatDelayMs = 40; // requests overlap
    let served = 0;
    const codes = new Set<string>();
    try {
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; i < 8; i++) {
            const res = await apps[w % 3].request('POST', '/api/v1/chat/completions', {
              headers: apiKeyHeaders(created.key),
              body: CHAT_BODY,
            });
            if (res.status === 200) served++;
            else {
              assert.equal(res.status, 429, res.text);
              assert.equal(res.body.error?.type, 'insufficient_quota');
              codes.add(res.body.error?.code);
            }
          }
        }),
      );
    } finally {
      fake.chatDelayMs = 0;
    }
    assert.deepEqual([...codes], ['budget_exceeded']);
    // Admitted only while the spend was below the budget: 10 fit, at most the other workers' requests were in flight.
    assert.ok(served >= 10, `the budget was used up (${served} served)`);
    assert.ok(served <= 10 + workers - 1, `${served} served: at most ${workers - 1} past the budget, in flight`);

    const keyPath = `/api/tenants/${user.tenantId}/api-keys/${created.id}`;
    // Settlement is written after the responses: spent_usd comes to exactly what the served requests cost.
    await waitFor("spent_usd to equal the served requests' cost", async () => {
      const usd: number = (await apps[0].request('GET', keyPath, { headers: bearer(user.token) })).body.spent_usd;
      return Math.abs(usd - served * cost) < 1e-9 ? usd : undefined;
    });

    const upstreamBefore = fake.chatCalls;
    const late = await spread(apps, 6, (app) =>
      app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(created.key), body: CHAT_BODY }),
    );
    assert.deepEqual(statusCounts(late), { 429: 6 });
    assert.equal(fake.chatCalls, upstreamBefore, 'refused without reaching OpenRouter');
  });
});
