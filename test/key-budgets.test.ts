/**
 * A tenant API key's USD budget over HTTP, against the fake OpenRouter reporting a fixed `usage.cost`: the key
 * is refused with 429 budget_exceeded (insufficient_quota) once its spend in the period reached the budget,
 * without reaching OpenRouter, request after request and under concurrency (only requests already in flight
 * overshoot); the figures show on the key and on /api/v1/me; a new budget applies to the next request; a
 * rotation keeps the spend; the spend is counted in Prometheus per route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { assertRefused, assertUsd } from './budget-helpers';
import { chatBody, eventually, keyHeaders, newTenantKey, postChat, type TenantKey } from './gateway-helpers';

const COST = 0.0002;
const METRICS_TOKEN = 'metrics-token-for-key-budgets-test';

describe('API key budgets (USD)', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { METRICS_TOKEN, OPENROUTER_TIMEOUT_MS: '3000', OPENROUTER_CHAT_TIMEOUT_MS: '3000' },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  const keyPath = (k: TenantKey) => `/api/tenants/${k.tenantId}/api-keys/${k.keyId}`;
  const readKey = async (k: TenantKey) => (await app.request('GET', keyPath(k), { headers: k.session() })).body;

  it('stops a key request after request exactly at its budget, streams included, without reaching OpenRouter', async () => {
    fake.setUsage({ cost: COST });
    const k = await newTenantKey(app, { budget_usd: 0.001, budget_period: 'day' });
    const created = await readKey(k);
    assert.deepEqual([created.budget_usd, created.budget_period, created.spent_usd], [0.001, 'day', 0]);

    // 0.0002 a request against 0.001: admitted at 0, 0.0002 … 0.0008 spent; the sixth meets 0.001.
    for (let i = 0; i < 5; i++) {
      const res = await postChat(app, k.key, chatBody({ stream: i % 2 === 1 }));
      assert.equal(res.status, 200, `request ${i + 1}`);
      await res.text();
    }
    const calls = fake.chatCallsFor(k.openRouterKey!);
    for (const stream of [false, true]) {
      const refused = await postChat(app, k.key, chatBody({ stream }));
      assertRefused(refused.status, await refused.json(), 'budget_exceeded');
    }
    assert.equal(fake.chatCallsFor(k.openRouterKey!), calls, 'refused requests never reached OpenRouter');
    assertUsd((await readKey(k)).spent_usd, 0.001, 'spent_usd of the key');

    const me = await eventually(
      () => app.request('GET', '/api/v1/me', { headers: keyHeaders(k.key) }),
      (r) => r.body.api_key?.spent_usd !== 0,
      '/api/v1/me spent_usd',
    );
    assert.equal(me.status, 200, me.text);
    assert.deepEqual([me.body.api_key.budget_usd, me.body.api_key.budget_period], [0.001, 'day']);
    assertUsd(me.body.api_key.spent_usd, 0.001, '/api/v1/me api_key.spent_usd');
    assertUsd(me.body.tenant.spent_usd, 0.001, '/api/v1/me tenant.spent_usd');
    assert.deepEqual([me.body.tenant.budget_usd, me.body.tenant.budget_period], [null, 'month']);

    // A raised budget applies to the next request; removing it lifts the limit.
    const raised = await app.request('PATCH', keyPath(k), { headers: k.session(), body: { budget_usd: 0.0012 } });
    assert.equal(raised.status, 200, raised.text);
    assert.equal((await postChat(app, k.key)).status, 200);
    const again = await postChat(app, k.key);
    assertRefused(again.status, await again.json(), 'budget_exceeded');
    const removed = await app.request('PATCH', keyPath(k), { headers: k.session(), body: { budget_usd: null } });
    assert.deepEqual([removed.status, removed.body.budget_usd], [200, null]);
    assert.equal((await postChat(app, k.key)).status, 200);
  });

  it('lets concurrent requests past the budget only while they were already in flight', async () => {
    fake.setUsage({ cost: COST });
    const k = await newTenantKey(app, { budget_usd: 0.001, budget_period: 'month' });
    const workers = 4; // at most 4 requests in flight at once
    fake.chatDelayMs = 30;
    let served = 0;
    const codes = new Set<string>();
    try {
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; i < 8; i++) {
            const res = await postChat(app, k.key, chatBody());
            const body: any = await res.json();
            if (res.status === 200) served++;
            else {
              assertRefused(res.status, body, 'budget_exceeded');
              codes.add(body.error.code);
            }
          }
        }),
      );
    } finally {
      fake.chatDelayMs = 0;
    }
    // 5 requests reach the budget; a request admitted while spend was below it may finish: at most the
    // other workers' requests were in flight when the fifth settled.
    assert.ok(served >= 5, `${served} served`);
    assert.ok(served <= 5 + workers - 1, `${served} served for 5 that fit and ${workers - 1} in flight`);
    assert.deepEqual([...codes], ['budget_exceeded']);
    assert.equal(fake.chatCallsFor(k.openRouterKey!), served, 'refused requests never reached OpenRouter');
    assertUsd((await readKey(k)).spent_usd, served * COST, 'every served request is counted');

    const late = await Promise.all(Array.from({ length: 6 }, () => postChat(app, k.key, chatBody())));
    for (const res of late) assertRefused(res.status, await res.json(), 'budget_exceeded');
    assert.equal(fake.chatCallsFor(k.openRouterKey!), served);
  });

  it('keeps the spend across a rotation, refuses a budget of 0, and validates the fields', async () => {
    fake.setUsage({ cost: COST });
    const k = await newTenantKey(app, { budget_usd: 0.0003, budget_period: 'total' });
    assert.equal((await postChat(app, k.key)).status, 200);
    const rotated = await app.request('POST', `${keyPath(k)}/rotate`, { headers: k.session(), body: {} });
    assert.equal(rotated.status, 201, rotated.text);
    assertUsd(rotated.body.spent_usd, COST, 'the new key starts where the old one was');
    assert.deepEqual([rotated.body.budget_usd, rotated.body.budget_period], [0.0003, 'total']);
    assert.equal((await postChat(app, rotated.body.key)).status, 200);
    const refused = await postChat(app, rotated.body.key);
    assertRefused(refused.status, await refused.json(), 'budget_exceeded');

    const zero = await newTenantKey(app, { budget_usd: 0 });
    const none = await postChat(app, zero.key);
    assertRefused(none.status, await none.json(), 'budget_exceeded');
    assert.equal(fake.chatCallsFor(zero.openRouterKey!), 0);

    for (const [body, field] of [
      [{ name: 'x', budget_usd: -1 }, 'budget_usd'],
      [{ name: 'x', budget_usd: '5' }, 'budget_usd'],
      [{ name: 'x', budget_usd: 1e12 }, 'budget_usd'],
      [{ name: 'x', budget_period: 'week' }, 'budget_period'],
      [{ name: 'x', budget_period: null }, 'budget_period'],
    ] as const) {
      const res = await app.request('POST', `/api/tenants/${k.tenantId}/api-keys`, { headers: k.session(), body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(res.body.details.fields.includes(field), `${JSON.stringify(body)} names ${field}`);
    }
  });

  it('counts the spend in Prometheus per route, with no tenant or key label', async () => {
    fake.setUsage({ cost: COST });
    const k = await newTenantKey(app);
    const read = async () => {
      const res = await fetch(`${app.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      const line = (await res.text()).split('\n').find((l) => l.startsWith('umb_spend_usd_total{'));
      return line ?? '';
    };
    const before = Number((await read()).split(' ')[1] ?? 0);
    assert.equal((await postChat(app, k.key)).status, 200);
    const line = await read();
    assert.match(line, /^umb_spend_usd_total\{route="\/chat\/completions"\} /);
    assertUsd(Number(line.split(' ')[1]) - before, COST, 'the request cost');
  });
});
