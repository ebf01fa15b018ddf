/**
 * The machine's PostgreSQL server stopped for a few seconds under load, then started again. Requests during the
 * outage get 503 `database_unavailable` (never a 500, never a 401 for valid credentials); the instances recover
 * on their own (same processes); nothing is lost or duplicated.
 *
 * This stops the PostgreSQL server every test on this machine uses: it keeps the outage short and always starts
 * the server again (finally). It needs pg_ctlcluster (a Debian-style local cluster) and root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type Cluster, type TestApp } from '../support/app';
import { FakeOpenRouter } from '../support/fake-openrouter';
import { signClerkToken } from '../support/clerk-tokens';
import {
  apiKeyHeaders,
  bearer,
  CLUSTER_SKIP,
  createApiKey,
  dbQuery,
  LoadLoop,
  localPostgresCluster,
  newUserClaims,
  pgCtl,
  requireRoute,
  signIn,
  tryRequest,
  waitFor,
  waitForPostgres,
  type SignedIn,
} from './support';

const OUTAGE_MS = 3000;
const skip =
  CLUSTER_SKIP ||
  (localPostgresCluster() && process.getuid?.() === 0
    ? false
    : 'needs a local pg_ctlcluster-managed PostgreSQL and root');

describe('PostgreSQL restarted under load', { skip }, () => {
  const fake = new FakeOpenRouter();
  let cluster: Cluster;
  let apps: TestApp[];
  let owner: SignedIn;
  let apiKey: string;

  before(async () => {
    await fake.start();
    cluster = await startCluster(2, { openRouter: fake, redis: true });
    apps = cluster.apps;
    owner = await signIn(apps[0]);
    await requireRoute(apps[0], 'POST', `/api/tenants/${owner.tenantId}/api-keys`, bearer(owner.token));
    await requireRoute(apps[0], 'GET', '/api/v1/me');
    apiKey = (await createApiKey(apps[0], owner, { name: 'pg outage', rate_limit_per_minute: 100_000 })).key;
  });

  after(async () => {
    await cluster?.stopAll();
    await fake.stop();
  });

  it('answers 503 database_unavailable during the outage, never 500 or 401, and recovers without a restart', async (t) => {
    const pids = apps.map((a) => a.pid);
    const keyRoute = '/api/v1/me';
    const loop = new LoadLoop(20_000);
    loop.start(
      4,
      (i) => {
        const app = apps[i % apps.length];
        switch (i % 3) {
          case 0:
            return tryRequest(app, 'GET', '/api/users/me', { headers: bearer(owner.token) });
          case 1:
            return tryRequest(app, 'GET', keyRoute, { headers: apiKeyHeaders(apiKey) });
          default:
            return tryRequest(app, 'GET', '/api/health/ready');
        }
      },
      10,
    );

    const newcomer = newUserClaims('pgdown');
    let duringOutage: Awaited<ReturnType<typeof tryRequest>>;
    let outageStart: number;
    try {
      await sleep(1000);
      outageStart = loop.results.length;
      await pgCtl('stop');
      // A first login while the database is down: refused cleanly, and not half-done once it is back.
      duringOutage = await tryRequest(apps[1], 'GET', '/api/users/me', { headers: bearer(signClerkToken(newcomer)) });
      await sleep(OUTAGE_MS);
    } finally {
      await pgCtl('start');
    }
    await waitForPostgres();
    // Recovery without restarting anything: every instance answers again.
    await waitFor(
      'every instance to answer /api/users/me again',
      async () => {
        const res = await Promise.all(
          apps.map((app) => tryRequest(app, 'GET', '/api/users/me', { headers: bearer(owner.token) })),
        );
        return res.every((r) => r.status === 200) ? true : undefined;
      },
      60_000,
      250,
    );
    await sleep(500);
    await loop.stop();

    const summary = loop.summary(outageStart);
    t.diagnostic(`from the outage on: ${JSON.stringify(summary)}`);
    const statuses = loop.results.slice(outageStart).map((r) => r.status);
    assert.ok(!statuses.includes(500), `no 500: ${JSON.stringify(summary)}`);
    assert.ok(!statuses.includes(401), `no 401 for valid credentials: ${JSON.stringify(summary)}`);
    assert.ok(!statuses.includes(0), `no dropped connection: ${JSON.stringify(summary)}`);
    assert.ok(statuses.includes(503), `the outage was seen: ${JSON.stringify(summary)}`);
    for (const r of loop.results.slice(outageStart).filter((x) => x.status === 503)) {
      assert.ok(r.code === 'database_unavailable' || r.code === null, `503 with code ${r.code}`); // ready answers {status: 'error', checks}
    }
    assert.ok(
      [503].includes(duringOutage!.status),
      `a login during the outage: ${duringOutage!.status} ${duringOutage!.text}`,
    );
    assert.equal(duringOutage!.body.code, 'database_unavailable');
    assert.deepEqual(
      apps.map((a) => a.pid),
      pids,
      'the same processes',
    );

    // Nothing duplicated: the refused login goes through once now, one user, one upstream key.
    const later = await apps[0].request('GET', '/api/users/me', { headers: bearer(signClerkToken(newcomer)) });
    assert.equal(later.status, 200);
    assert.equal(later.body.openrouter_key_status, 'active');
    const users = await dbQuery(cluster.database, `SELECT id FROM users WHERE clerk_user_id = $1`, [newcomer.sub]);
    assert.equal(users.length, 1);
    assert.equal(fake.keys.filter((k) => k.name.startsWith(`umb:${users[0].id}:`)).length, 1);
    // Writes work again on both instances.
    for (const app of apps) await createApiKey(app, owner, { name: `after outage ${app.port}` });
  });
});
