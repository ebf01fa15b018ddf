/**
 * Usage accounting and token quotas over HTTP, against the fake OpenRouter: usage totals equal what the
 * fake reported, grouped by key, model, user and day, for the key's tenant only; quotas refuse a key at
 * or over its quota with 429 insufficient_quota without reaching OpenRouter, and concurrent requests do
 * not overshoot beyond those already in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { collectSse } from './support/sse';
import { anotherKey, chatBody, keyHeaders, newTenantKey, postChat, type TenantKey } from './gateway-helpers';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
}

function usageOf(app: TestApp, key: string, query = '') {
  return app.request('GET', `/api/v1/usage${query}`, { headers: keyHeaders(key) });
}

function sum(usages: Usage[]): Usage {
  return usages.reduce(
    (t, u) => ({
      prompt_tokens: t.prompt_tokens + u.prompt_tokens,
      completion_tokens: t.completion_tokens + u.completion_tokens,
      total_tokens: t.total_tokens + u.total_tokens,
      cost: t.cost + u.cost,
    }),
    { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 },
  );
}

function assertCost(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: cost ${actual} != ${expected}`);
}

function assertQuotaRefusal(status: number, body: any): void {
  assert.equal(status, 429, JSON.stringify(body));
  assert.equal(body.error.type, 'insufficient_quota');
  assert.equal(body.error.code, 'quota_exceeded');
  assert.equal(typeof body.error.message, 'string');
}

describe('usage and quotas', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { OPENROUTER_TIMEOUT_MS: '3000', OPENROUTER_CHAT_TIMEOUT_MS: '3000' },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  describe('GET /api/v1/usage', () => {
    let a: TenantKey;
    let a2: TenantKey;
    const reported: { key: string; model: string; usage: Usage }[] = [];

    before(async () => {
      a = await newTenantKey(app);
      a2 = await anotherKey(app, a);
      fake.setUsage({ prompt_tokens: 11, completion_tokens: 7, cost: 0.0003 });
      for (const style of ['x-api-key', 'bearer', 'x-api-key'] as const) {
        const res = await postChat(app, a.key, chatBody(), { style });
        assert.equal(res.status, 200);
        reported.push({ key: a.keyId, model: 'openai/gpt-4o-mini', usage: ((await res.json()) as any).usage });
      }
      for (let i = 0; i < 2; i++) {
        const res = await postChat(app, a2.key, chatBody({ stream: true }));
        const { chunks } = await collectSse(res);
        reported.push({ key: a2.keyId, model: 'openai/gpt-4o-mini', usage: chunks.at(-1).usage });
      }
      fake.setUsage({ prompt_tokens: 5, completion_tokens: 1, cost: 0.00001 });
      const haiku = await postChat(app, a.key, chatBody({ model: 'anthropic/claude-3.5-haiku' }));
      reported.push({ key: a.keyId, model: 'anthropic/claude-3.5-haiku', usage: ((await haiku.json()) as any).usage });
      fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 });
    });

    it('adds up, per API key, exactly what OpenRouter reported', async () => {
      const res = await usageOf(app, a.key, '?group_by=api_key');
      assert.equal(res.status, 200, res.text);
      const expected = sum(reported.map((r) => r.usage));
      const { cost, ...tokens } = res.body.totals;
      assert.deepEqual(tokens, {
        requests: 6,
        prompt_tokens: expected.prompt_tokens,
        completion_tokens: expected.completion_tokens,
        total_tokens: expected.total_tokens,
      });
      assertCost(cost, expected.cost, 'totals');
      assert.equal(res.body.group_by, 'api_key');
      for (const [keyId, n] of [
        [a.keyId, 4],
        [a2.keyId, 2],
      ] as const) {
        const row = res.body.data.find((r: any) => r.key === keyId);
        const mine = sum(reported.filter((r) => r.key === keyId).map((r) => r.usage));
        assert.equal(row.requests, n);
        assert.equal(row.total_tokens, mine.total_tokens);
        assertCost(row.cost, mine.cost, keyId);
      }
      assert.deepEqual(Object.keys(res.body.data[0]).sort(), [
        'completion_tokens',
        'cost',
        'key',
        'prompt_tokens',
        'requests',
        'total_tokens',
      ]);
    });

    it('groups by model, user and day (the default)', async () => {
      const byModel = await usageOf(app, a2.key, '?group_by=model');
      assert.deepEqual(
        byModel.body.data.map((r: any) => [r.key, r.requests, r.total_tokens]),
        [
          ['anthropic/claude-3.5-haiku', 1, 6],
          ['openai/gpt-4o-mini', 5, 90],
        ],
      );
      const byUser = await usageOf(app, a.key, '?group_by=user');
      assert.deepEqual(
        byUser.body.data.map((r: any) => [r.key, r.requests]),
        [[a.userId, 6]],
      );
      const byDay = await usageOf(app, a.key);
      assert.equal(byDay.body.group_by, 'day');
      assert.deepEqual(
        byDay.body.data.map((r: any) => [r.key, r.requests]),
        [[new Date().toISOString().slice(0, 10), 6]],
      );
    });

    it('honours from and to', async () => {
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const before = await usageOf(app, a.key, `?to=${yesterday}T00:00:00Z`);
      assert.equal(before.status, 200);
      assert.deepEqual(before.body.data, []);
      assert.equal(before.body.totals.requests, 0);
      const today = new Date().toISOString().slice(0, 10);
      const through = await usageOf(app, a.key, `?from=${today}&to=${today}`);
      assert.equal(through.body.totals.requests, 6, 'a bare `to` date includes that day');
    });

    it("shows the key's tenant only", async () => {
      const other = await newTenantKey(app);
      await postChat(app, other.key).then((r) => r.arrayBuffer());
      const res = await usageOf(app, other.key, '?group_by=api_key');
      assert.deepEqual(
        res.body.data.map((r: any) => [r.key, r.requests]),
        [[other.keyId, 1]],
      );
      const mine = await usageOf(app, a.key, '?group_by=api_key');
      assert.equal(mine.body.totals.requests, 6);
    });

    it('validates its parameters (400 with a code) and needs the usage:read scope', async () => {
      for (const [query, code] of [
        ['?group_by=week', 'validation_failed'],
        ['?from=yesterday', 'validation_failed'],
        ['?from=2025-06-02&to=2025-06-01', 'invalid_range'],
        ['?from=2020-01-01&to=2025-01-01', 'range_too_large'],
        ['?unknown=1', 'validation_failed'],
      ]) {
        const res = await usageOf(app, a.key, query);
        assert.equal(res.status, 400, `${query}: ${res.text}`);
        assert.equal(res.body.code, code, query);
        assert.equal(typeof res.body.request_id, 'string');
      }
      const chatOnly = await newTenantKey(app, { scopes: ['chat'] });
      const forbidden = await usageOf(app, chatOnly.key);
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.code, 'forbidden');
    });

    it('records failed requests as requests without tokens', async () => {
      const t = await newTenantKey(app);
      fake.chatStatusForKey(t.openRouterKey!, 402);
      assert.equal(await postChat(app, t.key).then(async (r) => (await r.arrayBuffer(), r.status)), 402);
      fake.chatStatusForKey(t.openRouterKey!, null);
      assert.equal(await postChat(app, t.key).then(async (r) => (await r.arrayBuffer(), r.status)), 200);
      const res = await usageOf(app, t.key);
      assert.deepEqual([res.body.totals.requests, res.body.totals.total_tokens], [2, 30]);
    });
  });

  describe('token quotas', () => {
    it('refuses at the quota without reaching OpenRouter, and concurrent requests do not overshoot beyond those in flight', async () => {
      const q = await newTenantKey(app, { token_quota: 100, quota_period: 'day' });
      fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 }); // 30 tokens a request
      const calls = fake.chatCallsFor(q.openRouterKey!);
      // max_tokens makes the reservation close to the real usage (a short prompt plus 20).
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => postChat(app, q.key, chatBody({ max_tokens: 20 }))),
      );
      const bodies: any[] = await Promise.all(responses.map((r) => r.json()));
      const ok = responses.filter((r) => r.status === 200).length;
      responses.forEach((r, i) => r.status !== 200 && assertQuotaRefusal(r.status, bodies[i]));
      assert.ok(ok >= 1, 'some requests are admitted');
      assert.ok(ok < 20, 'the others are refused');
      assert.equal(fake.chatCallsFor(q.openRouterKey!) - calls, ok, 'refused requests never reached OpenRouter');
      // Admitted requests were each within the quota when admitted, counting the others in flight:
      // the overshoot is less than one request.
      assert.ok(ok * 30 < 100 + 30, `${ok} requests admitted for a quota of 100 at 30 tokens each`);

      // At or over the quota now: refused, sequentially, stream or not.
      for (const stream of [false, true]) {
        const res = await postChat(app, q.key, chatBody({ stream }));
        assertQuotaRefusal(res.status, await res.json());
      }
      assert.equal(fake.chatCallsFor(q.openRouterKey!) - calls, ok);
      const usage = await usageOf(app, q.key);
      assert.equal(usage.body.totals.total_tokens, ok * 30);
    });

    it('carries the used tokens over to the new key when a key is rotated', async () => {
      const q = await newTenantKey(app, { token_quota: 60, quota_period: 'total' });
      fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 });
      assert.equal((await postChat(app, q.key)).status, 200);
      const rotated = await app.request('POST', `/api/tenants/${q.tenantId}/api-keys/${q.keyId}/rotate`, {
        headers: q.session(),
        body: {},
      });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal(rotated.body.tokens_used, 30, 'the new key starts where the old one was');
      assert.equal((await postChat(app, rotated.body.key)).status, 200);
      const refused = await postChat(app, rotated.body.key);
      assertQuotaRefusal(refused.status, await refused.json());
    });

    it('counts a total quota exactly, request after request, and a raised quota applies to the next request', async () => {
      const q = await newTenantKey(app, { token_quota: 60, quota_period: 'total' });
      assert.equal((await postChat(app, q.key)).status, 200);
      assert.equal(
        await postChat(app, q.key, chatBody({ stream: true })).then(async (r) => (await r.text(), r.status)),
        200,
      );
      const third = await postChat(app, q.key);
      assertQuotaRefusal(third.status, await third.json());

      const patched = await app.request('PATCH', `/api/tenants/${q.tenantId}/api-keys/${q.keyId}`, {
        headers: q.session(),
        body: { token_quota: 90 },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal((await postChat(app, q.key)).status, 200);
      const fifth = await postChat(app, q.key);
      assertQuotaRefusal(fifth.status, await fifth.json());

      const unlimited = await app.request('PATCH', `/api/tenants/${q.tenantId}/api-keys/${q.keyId}`, {
        headers: q.session(),
        body: { token_quota: null },
      });
      assert.equal(unlimited.status, 200, unlimited.text);
      assert.equal((await postChat(app, q.key)).status, 200);
    });

    it('releases the reservation of a request that failed upstream', async () => {
      // The reservation (prompt + max_tokens 35) alone exceeds the quota of 40: a reservation left
      // behind would refuse the next request.
      const q = await newTenantKey(app, { token_quota: 40, quota_period: 'month' });
      fake.failNext('chat', { status: 500 });
      const failed = await postChat(app, q.key, chatBody({ max_tokens: 35 }));
      assert.equal(failed.status, 502);
      await failed.arrayBuffer();
      const next = await postChat(app, q.key, chatBody({ max_tokens: 35 }));
      assert.equal(next.status, 200, await next.clone().text());
    });

    it('a quota of 0 refuses every request', async () => {
      const q = await newTenantKey(app, { token_quota: 0, quota_period: 'day' });
      const res = await postChat(app, q.key);
      assertQuotaRefusal(res.status, await res.json());
      assert.equal(fake.chatCallsFor(q.openRouterKey!), 0);
    });
  });
});
