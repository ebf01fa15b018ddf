/**
 * `Server-Timing` on the gateway's answers: `gateway;dur=…, upstream;dur=…` on every inference route, on JSON
 * answers, streams (known at the headers) and OpenRouter's refusals; `gateway` alone where OpenRouter was not
 * called. OpenRouter's part is at least a delay injected into the fake; the gateway's part is observed in
 * `umb_gateway_overhead_seconds` by route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter, type InferenceRoute } from './support/fake-openrouter';
import { collectSse } from './support/sse';
import { keyHeaders, newTenantKey, type TenantKey } from './gateway-helpers';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const DURATION = String.raw`\d+(?:\.\d{1,3})?`;
const BOTH = new RegExp(`^gateway;dur=(${DURATION}), upstream;dur=(${DURATION})$`);
const GATEWAY_ONLY = new RegExp(`^gateway;dur=(${DURATION})$`);

interface Route {
  readonly fake: InferenceRoute;
  readonly path: string;
  readonly upstream: string;
  readonly body: Record<string, unknown>;
  readonly streams: boolean;
}

const ROUTES: readonly Route[] = [
  {
    fake: 'chat',
    path: '/api/v1/chat/completions',
    upstream: '/chat/completions',
    body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
    streams: true,
  },
  {
    fake: 'completions',
    path: '/api/v1/completions',
    upstream: '/completions',
    body: { model: 'openai/gpt-4o-mini', prompt: 'once upon', max_tokens: 5 },
    streams: true,
  },
  {
    fake: 'embeddings',
    path: '/api/v1/embeddings',
    upstream: '/embeddings',
    body: { model: 'openai/text-embedding-3-small', input: ['one'] },
    streams: false,
  },
  {
    fake: 'responses',
    path: '/api/v1/responses',
    upstream: '/responses',
    body: { model: 'openai/gpt-4o-mini', input: 'hi', max_output_tokens: 5 },
    streams: true,
  },
  {
    fake: 'messages',
    path: '/api/v1/messages',
    upstream: '/messages',
    body: { model: 'anthropic/claude-3.5-haiku', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
    streams: true,
  },
];

/** The header's two parts in milliseconds; fails unless it is exactly `gateway;dur=…, upstream;dur=…`. */
function split(res: Response): { gateway: number; upstream: number } {
  const header = res.headers.get('server-timing') ?? '';
  const m = BOTH.exec(header);
  assert.ok(m, `Server-Timing with both parts: "${header}"`);
  return { gateway: Number(m[1]), upstream: Number(m[2]) };
}

describe('Server-Timing on the gateway', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;
  let user: TenantKey;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { METRICS_TOKEN, OPENROUTER_TIMEOUT_MS: '5000', OPENROUTER_CHAT_TIMEOUT_MS: '5000' },
    });
    user = await newTenantKey(app);
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  const post = (path: string, body: unknown, key = user.key) =>
    fetch(`${app.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...keyHeaders(key) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  for (const route of ROUTES) {
    it(`splits a JSON answer of ${route.path} between the gateway and an upstream delayed by 120 ms`, async () => {
      fake.failNext(route.fake, { delayMs: 120 });
      const res = await post(route.path, route.body);
      assert.equal(res.status, 200, await res.clone().text());
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const { upstream } = split(res);
      assert.ok(upstream >= 120, `OpenRouter's part includes its delay: ${upstream}`);
      await res.arrayBuffer();
    });
  }

  for (const route of ROUTES.filter((r) => r.streams)) {
    it(`sends the split of a stream of ${route.path} with its headers`, async () => {
      fake.failNext(route.fake, { delayMs: 80 });
      const res = await post(route.path, { ...route.body, stream: true });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const { upstream } = split(res);
      assert.ok(upstream >= 80, `OpenRouter's part includes its delay: ${upstream}`);
      const { chunks } = await collectSse(res);
      assert.ok(chunks.length > 0, 'the stream is relayed after the header');
    });
  }

  it("times OpenRouter's refusals and failures, answered as the gateway's errors", async () => {
    fake.failNext('chat', { status: 429 });
    const limited = await post('/api/v1/chat/completions', ROUTES[0].body);
    assert.equal(limited.status, 429);
    split(limited);
    await limited.arrayBuffer();

    fake.failNext('embeddings', { status: 502 });
    const refused = await post('/api/v1/embeddings', ROUTES[2].body);
    assert.ok(refused.status >= 500, `OpenRouter's 502 answered as the gateway's own: ${refused.status}`);
    split(refused);
    await refused.arrayBuffer();

    fake.failNext('messages', 'reset');
    const dropped = await post('/api/v1/messages', ROUTES[4].body);
    assert.ok(dropped.status >= 500, `a dropped connection is the gateway's 5xx: ${dropped.status}`);
    split(dropped);
    await dropped.arrayBuffer();
  });

  it('names the gateway alone where OpenRouter was not called', async () => {
    const logged = fake.requests.length;
    const malformed = await post('/api/v1/chat/completions', { model: 42, messages: [] });
    assert.equal(malformed.status, 400);
    assert.match(malformed.headers.get('server-timing') ?? '', GATEWAY_ONLY);
    await malformed.arrayBuffer();

    const quota = await newTenantKey(app, { token_quota: 1, quota_period: 'total' });
    const spent = await post('/api/v1/chat/completions', ROUTES[0].body, quota.key);
    assert.equal(spent.status, 200);
    await spent.arrayBuffer();
    const refused = await post('/api/v1/chat/completions', ROUTES[0].body, quota.key);
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('server-timing') ?? '', GATEWAY_ONLY);
    await refused.arrayBuffer();
    assert.equal(fake.requests.filter((r) => r.route === 'chat').length, countChat(logged) + 1);
  });

  /** Chat calls the fake had logged among its first `n` requests. */
  function countChat(n: number): number {
    return fake.requests.slice(0, n).filter((r) => r.route === 'chat').length;
  }

  it("observes the gateway's own part by route in umb_gateway_overhead_seconds", async () => {
    const res = await post('/api/v1/embeddings', ROUTES[2].body);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const scrape = await app.request('GET', '/api/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(scrape.status, 200, scrape.text);
    for (const route of ROUTES) {
      assert.match(
        scrape.text,
        new RegExp(`umb_gateway_overhead_seconds_count\\{route="${route.upstream}"\\} [1-9]`),
        `${route.upstream} observed`,
      );
    }
    assert.ok(!scrape.text.includes(user.tenantId), 'no tenant in any label');
  });
});
