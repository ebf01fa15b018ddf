/**
 * The machine's Redis stopped under load, then started again. The behaviour chosen in libs/rate-limit (and the
 * gateway's quota store and the API-key cache) is to fail open: rate limits are counted in each instance's memory
 * (so a key's limit holds per instance instead of across them), quotas are admitted unchecked, and the verified-key
 * cache is bypassed so that a revocation still takes effect at once everywhere. Nothing answers 500; when Redis is
 * back the limits are shared again.
 *
 * This stops the Redis server every test on this machine uses: the outage is kept short and Redis is always
 * started again (finally), as CI starts it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type Cluster, type TestApp } from '../support/app';
import { FakeOpenRouter } from '../support/fake-openrouter';
import {
  apiKeyHeaders,
  bearer,
  CHAT_BODY,
  CLUSTER_SKIP,
  commandExists,
  createApiKey,
  LoadLoop,
  requireRoute,
  signIn,
  spread,
  startRedis,
  statusCounts,
  stopRedis,
  tryRequest,
  waitFor,
  type SignedIn,
} from './support';

const isLocalRedis = /\/\/(127\.0\.0\.1|localhost)(:6379)?\/?$/.test(process.env.TEST_REDIS_URL ?? '');

describe(
  'Redis stopped under load',
  { skip: CLUSTER_SKIP || (isLocalRedis ? false : 'TEST_REDIS_URL is not the local redis-server on 6379') },
  () => {
    const fake = new FakeOpenRouter();
    let cluster: Cluster;
    let apps: TestApp[];
    let owner: SignedIn;

    before(async (t) => {
      if (!(await commandExists('redis-server')) || !(await commandExists('redis-cli'))) return;
      await fake.start();
      cluster = await startCluster(2, { openRouter: fake, redis: true });
      apps = cluster.apps;
      owner = await signIn(apps[0]);
      await requireRoute(apps[0], 'POST', `/api/tenants/${owner.tenantId}/api-keys`, bearer(owner.token));
      await requireRoute(apps[0], 'POST', '/api/v1/chat/completions');
      await requireRoute(apps[0], 'GET', '/api/v1/me');
      void t;
    });

    after(async () => {
      await startRedis().catch(() => undefined);
      await cluster?.stopAll();
      await fake.stop();
    });

    it('fails open (limits per instance, cache bypassed), never answers 500, and shares limits again once Redis is back', async (t) => {
      if (!cluster) return t.skip('redis-server / redis-cli not installed');
      const route = '/api/v1/me';
      const busy = (await createApiKey(apps[0], owner, { name: 'redis outage load', rate_limit_per_minute: 100_000 }))
        .key;
      const small = (await createApiKey(apps[0], owner, { name: 'redis outage 5/min', rate_limit_per_minute: 5 })).key;
      const doomed = await createApiKey(apps[0], owner, { name: 'redis outage revoked' });
      for (const app of apps)
        assert.equal((await app.request('GET', route, { headers: apiKeyHeaders(doomed.key) })).status, 200);

      const loop = new LoadLoop(20_000);
      loop.start(
        4,
        (i) => {
          const app = apps[i % apps.length];
          if (i % 4 === 0) return tryRequest(app, 'GET', '/api/users/me', { headers: bearer(owner.token) });
          if (i % 4 === 1)
            return tryRequest(app, 'POST', '/api/v1/chat/completions', {
              headers: apiKeyHeaders(busy),
              body: CHAT_BODY,
            });
          return tryRequest(app, 'GET', route, { headers: apiKeyHeaders(busy) });
        },
        10,
      );

      let smallDuring: Awaited<ReturnType<typeof tryRequest>>[];
      let revokedDuring: Awaited<ReturnType<typeof tryRequest>>[];
      let outageStart: number;
      try {
        await sleep(800);
        outageStart = loop.results.length;
        await stopRedis();
        await sleep(300);
        // Ten hits per instance on a key allowed 5 a minute: with Redis down each instance counts alone.
        smallDuring = await spread(apps, 20, (app) => tryRequest(app, 'GET', route, { headers: apiKeyHeaders(small) }));
        // Revoked through one instance, refused by the other at once: its cache is bypassed while invalidations can be missed.
        const revoked = await apps[0].request('DELETE', `/api/tenants/${owner.tenantId}/api-keys/${doomed.id}`, {
          headers: bearer(owner.token),
        });
        assert.equal(revoked.status, 204);
        revokedDuring = await Promise.all(
          apps.map((app) => tryRequest(app, 'GET', route, { headers: apiKeyHeaders(doomed.key) })),
        );
        await sleep(1500);
      } finally {
        await startRedis();
      }
      await waitFor(
        'both instances to report Redis up',
        async () => {
          const ready = await Promise.all(apps.map((app) => tryRequest(app, 'GET', '/api/health/ready')));
          return ready.every((r) => r.status === 200 && r.body.checks?.redis === 'up') ? true : undefined;
        },
        30_000,
        250,
      );
      await sleep(500);
      await loop.stop();

      const summary = loop.summary(outageStart);
      t.diagnostic(`from the outage on: ${JSON.stringify(summary)}`);
      const statuses = loop.results.slice(outageStart).map((r) => r.status);
      assert.ok(
        !statuses.includes(500) && !statuses.includes(0),
        `no 500 and no dropped connection: ${JSON.stringify(summary)}`,
      );
      assert.ok(
        statuses.every((s) => s === 200),
        `fail open: everything served during the outage: ${JSON.stringify(summary)}`,
      );
      assert.deepEqual(
        statusCounts(smallDuring),
        { 200: 10, 429: 10 },
        'a 5/min key: 5 per instance while Redis is down',
      );
      assert.deepEqual(
        revokedDuring.map((r) => r.status),
        [401, 401],
        'a revocation during the outage holds on every instance',
      );

      // Back to shared limits: a fresh key allowed 20 a minute gets exactly 20 of 60 over both instances.
      const shared = (await createApiKey(apps[1], owner, { name: 'after redis', rate_limit_per_minute: 20 })).key;
      const responses = await spread(apps, 60, (app) => app.request('GET', route, { headers: apiKeyHeaders(shared) }));
      assert.deepEqual(statusCounts(responses), { 200: 20, 429: 40 });
    });
  },
);
