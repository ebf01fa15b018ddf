/**
 * Prometheus metrics at /api/metrics: absent without METRICS_TOKEN, refused without the right bearer, and the
 * named series present after real traffic (requests by route pattern, upstream calls, provisioning, refusals,
 * cache lookups, event-loop lag).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { chatBody, keyHeaders, newTenantKey } from './gateway-helpers';
import { startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';

const TOKEN = 'metrics-token-for-tests-0123456789';

describe('GET /api/metrics without METRICS_TOKEN', () => {
  let app: TestApp;
  before(async () => {
    app = await startApp({ inProcess: true });
  });
  after(async () => {
    await app?.stop();
  });

  it('does not exist, whatever the bearer', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await app.request('GET', '/api/metrics', { headers });
      assert.equal(res.status, 404, res.text);
      assert.equal(res.body.code, 'not_found');
    }
  });
});

describe('GET /api/metrics with METRICS_TOKEN', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake, env: { METRICS_TOKEN: TOKEN } });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  const scrape = () => app.request('GET', '/api/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });

  it('refuses a missing or wrong token with 401', async () => {
    for (const headers of [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: TOKEN },
      { 'x-api-key': TOKEN },
    ] as Record<string, string>[]) {
      const res = await app.request('GET', '/api/metrics', { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.body.code, 'unauthenticated');
      assert.ok(!res.text.includes(TOKEN), 'the token is never echoed');
    }
  });

  it('serves Prometheus text with the named metrics after traffic', async () => {
    // A login (provisioning, snapshot cache), API-key calls (verified-key cache), a chat (upstream call),
    // a rate-limit refusal and a quota refusal.
    const user = await newTenantKey(app);
    assert.equal((await app.request('GET', '/api/users/me', { headers: user.session() })).status, 200);
    const tenantPath = `/api/tenants/${user.tenantId}`;
    assert.equal((await app.request('GET', tenantPath, { headers: user.session() })).status, 200);
    const chat = await app.request('POST', '/api/v1/chat/completions', {
      headers: keyHeaders(user.key),
      body: chatBody(),
    });
    assert.equal(chat.status, 200, chat.text);
    const limited = await newTenantKey(app, { rate_limit_per_minute: 1 });
    assert.equal((await app.request('GET', '/api/v1/me', { headers: keyHeaders(limited.key) })).status, 200);
    assert.equal((await app.request('GET', '/api/v1/me', { headers: keyHeaders(limited.key) })).status, 429);
    const quota = await newTenantKey(app, { token_quota: 1, quota_period: 'total' });
    const spend = await app.request('POST', '/api/v1/chat/completions', {
      headers: keyHeaders(quota.key),
      body: chatBody(),
    });
    assert.equal(spend.status, 200, spend.text);
    const refused = await app.request('POST', '/api/v1/chat/completions', {
      headers: keyHeaders(quota.key),
      body: chatBody(),
    });
    assert.equal(refused.status, 429, refused.text);
    const broke = await newTenantKey(app, { budget_usd: 0 });
    const overBudget = await app.request('POST', '/api/v1/chat/completions', {
      headers: keyHeaders(broke.key),
      body: chatBody(),
    });
    assert.equal(overBudget.status, 429, overBudget.text);
    const unknownPath = `/api/no-such-route-${randomUUID()}`;
    assert.equal((await app.request('GET', unknownPath)).status, 404);

    const res = await scrape();
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = res.text;
    const has = (re: RegExp, what: string) => assert.match(text, re, what);
    has(
      /umb_http_request_duration_seconds_count\{method="GET",route="\/api\/users\/me",status="200"\} [1-9]/,
      'requests by route and status',
    );
    has(/route="\/api\/tenants\/:tenantId"/, 'route pattern, not the raw URL');
    assert.ok(!text.includes(user.tenantId), 'no id in any label');
    assert.ok(!text.includes(unknownPath), 'no unrouted URL in any label');
    has(/route="unmatched",status="404"/, 'unrouted requests share one label');
    has(/umb_upstream_request_duration_seconds_count\{operation="POST \/keys",outcome="201"\} [1-9]/, 'key creation');
    has(
      /umb_upstream_request_duration_seconds_count\{operation="POST \/chat\/completions",outcome="200"\} [1-9]/,
      'chat upstream latency',
    );
    has(/umb_upstream_errors_total/, 'upstream errors');
    has(/umb_openrouter_key_events_total\{event="provisioned"\} [1-9]/, 'provisioning');
    has(/umb_refusals_total\{reason="rate_limited"\} [1-9]/, 'rate-limit refusals');
    has(/umb_refusals_total\{reason="quota_exceeded"\} [1-9]/, 'quota refusals');
    has(/umb_refusals_total\{reason="budget_exceeded"\} [1-9]/, 'budget refusals');
    has(/umb_spend_usd_total\{route="[^"]+"\} [0-9.e-]*[1-9]/, 'spend per route');
    has(/umb_cache_lookups_total\{cache="user_snapshot",result="hit"\} [1-9]/, 'snapshot cache hits');
    has(/umb_cache_lookups_total\{cache="verified_api_key",result="(hit|miss)"\} [1-9]/, 'verified-key cache');
    has(/^nodejs_eventloop_lag_seconds /m, 'event-loop lag');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('counts upstream failures by operation and outcome', async () => {
    fake.failNext('chat', { status: 502 });
    const user = await newTenantKey(app);
    const res = await app.request('POST', '/api/v1/chat/completions', {
      headers: keyHeaders(user.key),
      body: chatBody(),
    });
    assert.notEqual(res.status, 200);
    const text = (await scrape()).text;
    assert.match(text, /umb_upstream_errors_total\{operation="POST \/chat\/completions",outcome="502"\} [1-9]/);
  });
});
