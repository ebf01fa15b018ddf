/**
 * Two instances on one PostgreSQL and one Redis: one shared per-key limit, and key changes made on one
 * instance refused on the other at the next request. Needs TEST_DATABASE_URL and TEST_REDIS_URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  postgresAvailable,
  redisAvailable,
  startCluster,
  type AppResponse,
  type Cluster,
  type TestApp,
} from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const SKIP = postgresAvailable() && redisAvailable() ? false : 'needs TEST_DATABASE_URL and TEST_REDIS_URL';

describe('API keys over two instances sharing Redis', { skip: SKIP }, () => {
  const fake = new FakeOpenRouter();
  let cluster: Cluster;
  let a: TestApp;
  let b: TestApp;
  let session: () => Record<string, string>;
  let tenantId: string;

  before(async () => {
    await fake.start();
    cluster = await startCluster(2, { redis: true, openRouter: fake });
    [a, b] = cluster.apps;
    session = fixedSession(newClerkUser());
    const me = await a.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    tenantId = me.body.tenant.id;
  });
  after(async () => {
    await cluster?.stopAll();
    await fake.stop();
  });

  async function createKey(settings: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const res = await a.request('POST', `/api/tenants/${tenantId}/api-keys`, {
      headers: session(),
      body: { name: 'cluster', ...settings },
    });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }
  const me = (app: TestApp, key: string) => app.request('GET', '/api/v1/me', { headers: { 'x-api-key': key } });

  it('shares one limit exactly: 10 of 30 requests spread over both instances', async () => {
    const { key } = await createKey({ rate_limit_per_minute: 10 });
    const responses: AppResponse[] = [];
    for (let wave = 0; wave < 3; wave++) {
      responses.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => me(i % 2 ? a : b, key)))));
    }
    assert.equal(responses.filter((r) => r.status === 200).length, 10);
    assert.equal(responses.filter((r) => r.status === 429).length, 20);
    for (const app of [a, b])
      assert.ok(
        responses.some((r) => r.headers.get('x-ratelimit-limit') === '10'),
        `headers from ${app.port}`,
      );
    assert.ok(
      responses
        .filter((r) => r.status === 429)
        .every((r) => r.body.code === 'rate_limited' && Number(r.headers.get('retry-after')) > 0),
    );
  });

  it('refuses on instance B, at the next request, a key revoked or disabled on instance A', async () => {
    const { id, key } = await createKey({ rate_limit_per_minute: 1000 });
    const path = `/api/tenants/${tenantId}/api-keys/${id}`;
    // Warm both caches first: the change has to get past them.
    assert.deepEqual([(await me(a, key)).status, (await me(b, key)).status], [200, 200]);

    assert.equal((await a.request('PATCH', path, { headers: session(), body: { is_active: false } })).status, 200);
    const disabled = await me(b, key);
    assert.deepEqual([disabled.status, disabled.body.code], [403, 'api_key_disabled']);
    assert.equal(
      (await b.request('PATCH', path, { headers: session(), body: { is_active: true, name: 'renamed on B' } })).status,
      200,
    );
    const renamed = await me(a, key);
    assert.deepEqual([renamed.status, renamed.body.api_key.name], [200, 'renamed on B']);

    assert.equal((await a.request('DELETE', path, { headers: session() })).status, 204);
    const revoked = await me(b, key);
    assert.deepEqual([revoked.status, revoked.body.code], [401, 'api_key_revoked']);
  });

  it('ends a rotated key on both instances when its grace period is over', async () => {
    const { id, key } = await createKey({ rate_limit_per_minute: 1000 });
    assert.deepEqual([(await me(a, key)).status, (await me(b, key)).status], [200, 200]);
    const rotated = await b.request('POST', `/api/tenants/${tenantId}/api-keys/${id}/rotate`, {
      headers: session(),
      body: { grace_period_seconds: 1 },
    });
    assert.equal(rotated.status, 201, rotated.text);
    assert.deepEqual([(await me(a, key)).status, (await me(b, key)).status], [200, 200], 'in grace');
    await new Promise((r) => setTimeout(r, 1300));
    assert.deepEqual([(await me(a, key)).status, (await me(b, key)).status], [401, 401], 'after grace');
    assert.deepEqual([(await me(a, rotated.body.key)).status, (await me(b, rotated.body.key)).status], [200, 200]);
  });
});
