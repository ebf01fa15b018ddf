/**
 * The OpenAI routes that share the chat route's proxy core, over HTTP against the fake OpenRouter:
 * `POST /api/v1/embeddings` and `POST /api/v1/completions` (the user's key, renewal once on a 401, 402
 * passed through, usage recorded and counted against the token quota, OpenAI-shaped errors) and
 * `GET /api/v1/models/{model}` with ids that contain `/`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter, type InferenceRoute } from './support/fake-openrouter';
import { collectSse } from './support/sse';
import { keyHeaders, newTenantKey, type AuthStyle } from './gateway-helpers';

const PATHS: Record<Extract<InferenceRoute, 'embeddings' | 'completions'>, string> = {
  embeddings: '/api/v1/embeddings',
  completions: '/api/v1/completions',
};

function embeddingBody(extra: Record<string, unknown> = {}) {
  return { model: 'openai/text-embedding-3-small', input: ['one', 'two'], ...extra };
}

function completionBody(extra: Record<string, unknown> = {}) {
  return { model: 'openai/gpt-4o-mini', prompt: 'once upon', max_tokens: 20, ...extra };
}

function post(app: TestApp, path: string, key: string, body: unknown, style: AuthStyle = 'x-api-key') {
  return fetch(`${app.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...keyHeaders(key, style) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function assertOpenAiError(body: any, type: string, code: string): void {
  assert.equal(typeof body?.error?.message, 'string', JSON.stringify(body));
  assert.deepEqual([body.error.type, body.error.code], [type, code], JSON.stringify(body));
}

describe('embeddings, completions and one model', () => {
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

  it("forwards embeddings on the user's own key, the body as sent, the answer as OpenRouter gave it", async () => {
    const t = await newTenantKey(app);
    fake.setUsage({ prompt_tokens: 7, completion_tokens: 20, cost: 0.00002 });
    // Odd spacing and key order: the bytes reach OpenRouter exactly as sent, not parsed and serialised again.
    const sent = `{ "input" : ["one", "two"],\n  "model":"openai/text-embedding-3-small", "dimensions": 8, "user": "u-1" }`;
    const res = await post(app, PATHS.embeddings, t.key, sent, 'bearer');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body: any = await res.json();
    assert.equal(body.object, 'list');
    assert.equal(body.data.length, 2);
    assert.deepEqual(body.usage, { prompt_tokens: 7, total_tokens: 7, cost: 0.00002 });
    const call = fake.requests.filter((r) => r.route === 'embeddings').at(-1)!;
    assert.equal(call.text, sent);
    assert.equal(fake.callsFor('embeddings', t.openRouterKey!), 1);
  });

  it('answers completions plain and streamed', async () => {
    const t = await newTenantKey(app);
    fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 });
    const plain = await post(app, PATHS.completions, t.key, completionBody());
    assert.equal(plain.status, 200);
    const body: any = await plain.json();
    assert.deepEqual(
      [body.object, body.choices[0].text, body.usage.total_tokens],
      ['text_completion', 'once upon', 30],
    );

    const streamed = await post(app, PATHS.completions, t.key, completionBody({ stream: true }));
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const { chunks, done } = await collectSse(streamed);
    assert.equal(done, true);
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'once upon');
    assert.equal(chunks.at(-1).usage.total_tokens, 30);
  });

  it('records usage of both routes and counts it against the quota as soon as the answer is out', async () => {
    // 7 (embeddings) + 30 (completion) tokens: a quota of 37 is used up after both.
    const t = await newTenantKey(app, { token_quota: 37, quota_period: 'day', scopes: ['chat', 'usage:read'] });
    fake.setUsage({ prompt_tokens: 7, completion_tokens: 23, cost: 0.0001 });
    assert.equal(
      (await post(app, PATHS.embeddings, t.key, embeddingBody()).then((r) => r.arrayBuffer())).byteLength > 0,
      true,
    );
    const tokensUsed = async () =>
      (await app.request('GET', `/api/tenants/${t.tenantId}/api-keys/${t.keyId}`, { headers: t.session() })).body
        .tokens_used;
    assert.equal(await tokensUsed(), 7, 'counted at once');
    const completion = await post(app, PATHS.completions, t.key, completionBody({ max_tokens: 5 }));
    assert.equal(completion.status, 200, await completion.clone().text());
    await completion.arrayBuffer();
    const calls = fake.callsFor('completions', t.openRouterKey!);

    for (const [path, body] of [
      [PATHS.embeddings, embeddingBody()],
      [PATHS.completions, completionBody({ stream: true })],
    ] as const) {
      const refused = await post(app, path, t.key, body);
      assert.equal(refused.status, 429);
      assertOpenAiError(await refused.json(), 'insufficient_quota', 'quota_exceeded');
    }
    assert.equal(fake.callsFor('completions', t.openRouterKey!), calls, 'refused without reaching OpenRouter');
    assert.equal(fake.callsFor('embeddings', t.openRouterKey!), 1);

    const usage = await app.request('GET', '/api/v1/usage?group_by=model', { headers: keyHeaders(t.key) });
    assert.equal(usage.status, 200, usage.text);
    assert.deepEqual(
      usage.body.data.map((r: any) => [r.key, r.requests, r.total_tokens]),
      [
        ['openai/gpt-4o-mini', 2, 30],
        ['openai/text-embedding-3-small', 2, 7],
      ],
    );
    assert.equal(await tokensUsed(), 37);
  });

  it('renews a revoked upstream key once for 20 concurrent embeddings and completions, retrying each', async () => {
    const t = await newTenantKey(app);
    const oldKey = t.openRouterKey!;
    fake.revokeKey(oldKey);
    const created = fake.createdCount;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2
          ? post(app, PATHS.embeddings, t.key, embeddingBody())
          : post(app, PATHS.completions, t.key, completionBody()),
      ),
    );
    const bodies: any[] = await Promise.all(responses.map((r) => r.json()));
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(20).fill(200),
      JSON.stringify(bodies.find((b) => b.error)),
    );
    assert.equal(fake.createdCount, created + 1, 'exactly one new upstream key');
    const renewed = responses.filter((r) => r.headers.get('x-openrouter-key-renewed') === 'true').length;
    assert.ok(renewed >= 1);
    assert.equal(
      fake.callsFor('embeddings', oldKey) + fake.callsFor('completions', oldKey),
      renewed,
      'each request that hit the 401 was retried once',
    );
  });

  it("passes 402 on with its status and OpenRouter's message under a catalogue code, never renewing", async () => {
    const t = await newTenantKey(app);
    const upstreamBody = { error: { code: 402, message: 'Insufficient credits', metadata: { provider_name: 'x' } } };
    fake.chatStatusForKey(t.openRouterKey!, 402, upstreamBody);
    const created = fake.createdCount;
    for (const res of [
      await post(app, PATHS.embeddings, t.key, embeddingBody()),
      await post(app, PATHS.completions, t.key, completionBody({ stream: true })),
    ]) {
      assert.equal(res.status, 402);
      assert.deepEqual(await res.json(), {
        error: {
          message: 'Insufficient credits',
          type: 'insufficient_quota',
          code: 'upstream_insufficient_credits',
          param: null,
        },
      });
    }
    assert.equal(fake.createdCount, created);
  });

  it('refuses bodies that are not requests of the route, and streaming embeddings, with 400 invalid_request_error', async () => {
    const t = await newTenantKey(app);
    for (const [path, body] of [
      [PATHS.embeddings, [1]],
      [PATHS.embeddings, embeddingBody({ stream: true })],
      [PATHS.completions, completionBody({ stream: 'yes' })],
      [PATHS.completions, completionBody({ model: 3 })],
    ] as const) {
      const res = await post(app, path, t.key, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assertOpenAiError(await res.json(), 'invalid_request_error', 'invalid_request_body');
    }
    const noChat = await newTenantKey(app, { scopes: ['usage:read'] });
    const forbidden = await post(app, PATHS.embeddings, noChat.key, embeddingBody());
    assert.equal(forbidden.status, 403);
    assertOpenAiError(await forbidden.json(), 'permission_error', 'forbidden');
    assert.equal(fake.callsFor('embeddings', t.openRouterKey!), 0);
  });

  it('serves one model by an id holding a slash (plain or encoded), 404 model_not_found otherwise', async () => {
    const t = await newTenantKey(app);
    for (const path of ['openai/gpt-4o-mini', 'openai%2Fgpt-4o-mini']) {
      const res = await fetch(`${app.baseUrl}/api/v1/models/${path}`, { headers: keyHeaders(t.key, 'bearer') });
      assert.equal(res.status, 200);
      const model: any = await res.json();
      assert.equal(model.id, 'openai/gpt-4o-mini');
      assert.equal(model.context_length, 128000);
    }
    const missing = await fetch(`${app.baseUrl}/api/v1/models/openai/gpt-5-imaginary`, { headers: keyHeaders(t.key) });
    assert.equal(missing.status, 404);
    assertOpenAiError(await missing.json(), 'invalid_request_error', 'model_not_found');
    const anonymous = await fetch(`${app.baseUrl}/api/v1/models/openai/gpt-4o-mini`);
    assert.equal(anonymous.status, 401);
    assertOpenAiError(await anonymous.json(), 'authentication_error', 'unauthenticated');
  });
});
