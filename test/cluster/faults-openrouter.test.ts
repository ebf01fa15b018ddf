/**
 * OpenRouter failing under a two-instance deployment: slow beyond the timeout, refusing connections, answering
 * 500 and 429. Logins still succeed and show the key's status; the gateway answers OpenAI-shaped errors (never a
 * 500 of its own); nothing is retried beyond its bounds (POST /keys and chat completions are never retried).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster, type TestApp } from '../support/app';
import { FakeOpenRouter, type Behaviour } from '../support/fake-openrouter';
import { signClerkToken } from '../support/clerk-tokens';
import {
  apiKeyHeaders,
  bearer,
  CHAT_BODY,
  CLUSTER_SKIP,
  createApiKey,
  newUserClaims,
  requireRoute,
  signIn,
  spread,
  type SignedIn,
} from './support';

const TIMEOUT_MS = 1000;

type Fault = { name: string; behaviour: Behaviour | 'refuse' };
const FAULTS: Fault[] = [
  { name: 'slow beyond the timeout', behaviour: { delayMs: TIMEOUT_MS * 2.5 } },
  { name: 'refusing connections', behaviour: 'refuse' },
  { name: 'answering 500', behaviour: { status: 500 } },
  { name: 'answering 429', behaviour: { status: 429, body: { error: { code: 429, message: 'Rate limit exceeded' } } } },
];

describe('OpenRouter faults, two instances', { skip: CLUSTER_SKIP }, () => {
  const fake = new FakeOpenRouter();
  let cluster: Cluster;
  let apps: TestApp[];

  before(async () => {
    await fake.start();
    cluster = await startCluster(2, {
      openRouter: fake,
      redis: true,
      env: { OPENROUTER_TIMEOUT_MS: String(TIMEOUT_MS), OPENROUTER_CHAT_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    apps = cluster.apps;
  });

  after(async () => {
    await fake.resume().catch(() => undefined);
    await cluster?.stopAll();
    await fake.stop();
  });

  async function inject(fault: Fault, route: 'keys.create' | 'chat'): Promise<void> {
    if (fault.behaviour === 'refuse') await fake.refuseConnections();
    else fake.setMode(route, fault.behaviour);
  }

  async function clear(): Promise<void> {
    fake.clearModes();
    await fake.resume().catch(() => undefined); // listening already: nothing to do
  }

  const createCalls = () => fake.requests.filter((r) => r.route === 'keys.create').length;
  const chatCalls = () => fake.requests.filter((r) => r.route === 'chat').length;

  for (const fault of FAULTS) {
    it(`logs in with openrouter_key_status shown while OpenRouter is ${fault.name}, and provisions at the next login`, async () => {
      const claims = newUserClaims('orfault');
      const before = createCalls();
      await inject(fault, 'keys.create');
      let responses;
      try {
        // Four first requests at once (four sessions), over both instances.
        responses = await spread(apps, 4, (app) =>
          app.request('GET', '/api/users/me', { headers: bearer(signClerkToken(claims)) }),
        );
      } finally {
        await clear();
      }
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200, 200],
        'the login never fails',
      );
      for (const r of responses) {
        assert.equal(r.body.openrouter_key_status, 'provisioning_failed');
        assert.equal(r.body.openrouter_api_key, null);
      }
      // POST /keys is never retried (a lost answer retried would create a second key), and the logins of one user
      // share one attempt per instance (single flight; the lease across instances while an attempt is running).
      assert.ok(
        createCalls() - before <= apps.length,
        `${createCalls() - before} POST /keys for 4 logins of one user on ${apps.length} instances`,
      );

      const later = await apps[1].request('GET', '/api/users/me', { headers: bearer(signClerkToken(claims)) });
      assert.equal(later.status, 200);
      assert.equal(later.body.openrouter_key_status, 'active', 'the next login provisions the key');
      assert.match(later.body.openrouter_api_key, /^sk-or-v1-/);
    });
  }

  describe('the gateway', () => {
    let user: SignedIn;
    let key: string;

    before(async () => {
      user = await signIn(apps[0]);
      await requireRoute(apps[0], 'POST', `/api/tenants/${user.tenantId}/api-keys`, bearer(user.token));
      await requireRoute(apps[0], 'POST', '/api/v1/chat/completions');
      key = (await createApiKey(apps[0], user, { name: 'openrouter faults', rate_limit_per_minute: 10_000 })).key;
      for (const app of apps)
        assert.equal(
          (await app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(key), body: CHAT_BODY }))
            .status,
          200,
        );
    });

    const expectations: Record<string, { status: number[]; note: string }> = {
      'slow beyond the timeout': { status: [504], note: 'a timeout' },
      'refusing connections': { status: [502, 503], note: 'upstream unavailable' },
      'answering 500': { status: [502], note: 'an upstream error' },
      'answering 429': { status: [429], note: "OpenRouter's 429 passed on" },
    };

    for (const fault of FAULTS) {
      it(`answers an OpenAI-shaped error when OpenRouter is ${fault.name}, without retrying`, async () => {
        const before = chatCalls();
        const createdBefore = fake.createdCount;
        await inject(fault, 'chat');
        let responses;
        try {
          responses = await spread(apps, 4, (app) =>
            app.request('POST', '/api/v1/chat/completions', { headers: apiKeyHeaders(key), body: CHAT_BODY }),
          );
        } finally {
          await clear();
        }
        const expected = expectations[fault.name];
        for (const r of responses) {
          assert.ok(
            expected.status.includes(r.status),
            `${fault.name}: ${r.status} ${r.text} (expected ${expected.note})`,
          );
          assert.equal(typeof r.body.error?.message, 'string', `OpenAI shape: ${r.text}`);
          assert.equal(typeof r.body.error?.type, 'string');
          assert.ok(r.body.error?.code !== undefined && r.body.error?.code !== null, 'a code');
          assert.ok(!/sk-or-v1-[0-9a-f]{8}/.test(r.text), 'no key in the error');
        }
        assert.ok(
          chatCalls() - before <= 4,
          `${chatCalls() - before} upstream calls for 4 requests: chat completions are not retried`,
        );
        assert.equal(fake.createdCount, createdBefore, 'no key renewal for anything but a 401');

        const healed = await apps[1].request('POST', '/api/v1/chat/completions', {
          headers: apiKeyHeaders(key),
          body: CHAT_BODY,
        });
        assert.equal(healed.status, 200, 'works again once OpenRouter is back');
      });
    }
  });
});
