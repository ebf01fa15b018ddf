/**
 * `POST /api/v1/responses` (OpenAI's Responses API) and `POST /api/v1/messages` (Anthropic's Messages API) over
 * HTTP against the fake OpenRouter, held to the chat route's rules: the user's own key, typed events relayed as
 * they arrive (`event:` lines kept), usage counted against the quota and recorded with the route, the key's rate
 * limit, one renewal on a 401 for many requests at once, the caller leaving aborting upstream. Every refusal on
 * /messages, from the edge to OpenRouter's own, is in Anthropic's error shape; on /responses in OpenAI's.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { openDatabaseEndpoint } from '#libs/database';
import { createTestDatabase, redisAvailable, startApp, type TestApp, type TestDatabase } from './support/app';
import { FakeOpenRouter, type LoggedRequest } from './support/fake-openrouter';
import { keyHeaders, newTenantKey, type AuthStyle, type TenantKey } from './gateway-helpers';

const USAGE = { prompt_tokens: 11, completion_tokens: 22, cost: 0.00033 };
const PER_REQUEST = USAGE.prompt_tokens + USAGE.completion_tokens;
const RESPONSES = '/api/v1/responses';
const MESSAGES = '/api/v1/messages';

const responsesBody = (extra: Record<string, unknown> = {}) => ({
  model: 'openai/gpt-4o-mini',
  input: 'say responses',
  max_output_tokens: 5,
  ...extra,
});
const messagesBody = (extra: Record<string, unknown> = {}) => ({
  model: 'anthropic/claude-3.5-haiku',
  max_tokens: 5,
  messages: [{ role: 'user', content: 'say messages' }],
  ...extra,
});

function post(
  app: TestApp,
  path: string,
  key: string | null,
  body: unknown,
  opts: { style?: AuthStyle; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${app.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : keyHeaders(key, opts.style)),
      ...opts.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: opts.signal,
  });
}

function assertAnthropicError(status: number, body: any, type: string, code: string): void {
  const shown = `${status}: ${JSON.stringify(body)}`;
  assert.deepEqual(Object.keys(body ?? {}).sort(), ['error', 'type'], shown);
  assert.equal(body.type, 'error', shown);
  assert.deepEqual([body.error.type, body.error.code], [type, code], shown);
  assert.equal(typeof body.error.message, 'string', shown);
}

function assertOpenAiError(body: any, type: string, code: string): void {
  assert.equal(typeof body?.error?.message, 'string', JSON.stringify(body));
  assert.deepEqual([body.error.type, body.error.code], [type, code], JSON.stringify(body));
}

/** The `event:` names of an SSE text, in order, and the text its data events carry. */
function eventsOf(sse: string): { names: string[]; data: any[] } {
  const names: string[] = [];
  const data: any[] = [];
  for (const block of sse.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) names.push(line.slice(7));
      else if (line.startsWith('data: ')) data.push(JSON.parse(line.slice(6)));
    }
  }
  return { names, data };
}

describe('responses and messages, on the chat route’s rules', () => {
  const fake = new FakeOpenRouter({ usage: USAGE });
  let database: TestDatabase;
  let app: TestApp;
  let stopped = false;
  /** Request ids answered by the routes, with the route each should be recorded under. */
  const answered: { requestId: string; route: string; status: number }[] = [];

  const remember = (res: Response, route: string) =>
    answered.push({ requestId: res.headers.get('x-request-id')!, route, status: res.status });
  const usersCalls = (route: 'responses' | 'messages', t: TenantKey) => fake.callsFor(route, t.openRouterKey!);

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    app = await startApp({
      openRouter: fake,
      database,
      redis: redisAvailable(),
      inProcess: true,
      env: { OPENROUTER_TIMEOUT_MS: '3000', OPENROUTER_CHAT_TIMEOUT_MS: '3000' },
    });
  });
  after(async () => {
    if (!stopped) await app?.stop();
    await fake.stop();
    await database?.drop();
  });

  it('relays the Responses API as JSON and as typed events (`event:` lines kept), on the user’s own key', async () => {
    const t = await newTenantKey(app);
    const plain = await post(app, RESPONSES, t.key, responsesBody(), { style: 'bearer' });
    remember(plain, 'v1/responses');
    assert.equal(plain.status, 200);
    const body: any = await plain.json();
    assert.deepEqual(
      [body.object, body.output[0].content[0].text, body.usage.total_tokens, body.usage.cost],
      ['response', 'say responses', PER_REQUEST, USAGE.cost],
    );
    const streamed = await post(app, RESPONSES, t.key, responsesBody({ stream: true }));
    remember(streamed, 'v1/responses');
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const { names, data } = eventsOf(await streamed.text());
    assert.equal(names[0], 'response.created');
    assert.equal(names.at(-1), 'response.completed');
    assert.deepEqual(
      names,
      data.map((d) => d.type),
      'each event keeps its event: line',
    );
    assert.equal(
      data
        .filter((d) => d.type === 'response.output_text.delta')
        .map((d) => d.delta)
        .join(''),
      'say responses',
    );
    assert.equal(usersCalls('responses', t), 2);
  });

  it('documents the five inference routes in OpenAPI: gateway tag, body schema, errors in each route’s shape', async () => {
    const doc = await app.request('GET', '/api/docs-json');
    assert.equal(doc.status, 200);
    const routes: [string, string, string][] = [
      ['/api/v1/chat/completions', 'ChatCompletionsController_create', 'OpenAiErrorDto'],
      ['/api/v1/completions', 'CompletionsController_create', 'OpenAiErrorDto'],
      ['/api/v1/embeddings', 'EmbeddingsController_create', 'OpenAiErrorDto'],
      ['/api/v1/responses', 'ResponsesController_create', 'OpenAiErrorDto'],
      ['/api/v1/messages', 'MessagesController_create', 'AnthropicErrorDto'],
    ];
    for (const [path, operationId, errorDto] of routes) {
      const op = doc.body.paths[path]?.post;
      assert.ok(op, `${path} is documented`);
      assert.deepEqual([op.operationId, op.tags], [operationId, ['gateway']], path);
      assert.equal(op.requestBody.content['application/json'].schema.type, 'object', path);
      for (const status of ['400', '401', '402', '403', '429', '502'])
        assert.equal(op.responses[status]?.content['application/json'].schema.$ref, `#/components/schemas/${errorDto}`);
    }
    assert.deepEqual(doc.body.paths['/api/v1/messages'].post.requestBody.content['application/json'].schema.required, [
      'model',
      'messages',
      'max_tokens',
    ]);
  });

  it('relays Anthropic messages for x-api-key and Bearer, sending anthropic-version and anthropic-beta on', async () => {
    const t = await newTenantKey(app);
    const protocol = { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31' };
    for (const style of ['x-api-key', 'bearer'] as const) {
      const res = await post(app, MESSAGES, t.key, messagesBody(), { style, headers: protocol });
      remember(res, 'v1/messages');
      assert.equal(res.status, 200, style);
      const body: any = await res.json();
      assert.deepEqual(
        [body.type, body.content[0].text, body.usage.input_tokens, body.usage.output_tokens],
        ['message', 'say messages', USAGE.prompt_tokens, USAGE.completion_tokens],
      );
      const call = fake.requests.filter((r) => r.route === 'messages').at(-1)!;
      assert.deepEqual(call.anthropicHeaders, protocol);
      assert.equal(call.keyHash, fake.keys.find((k) => k.key === t.openRouterKey)?.hash, 'the user’s own key');
    }
    const streamed = await post(app, MESSAGES, t.key, messagesBody({ stream: true }), { headers: protocol });
    remember(streamed, 'v1/messages');
    assert.equal(streamed.status, 200);
    const { names, data } = eventsOf(await streamed.text());
    assert.deepEqual(names.slice(0, 2), ['message_start', 'content_block_start']);
    assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
    assert.equal(
      data
        .filter((d) => d.type === 'content_block_delta')
        .map((d) => d.delta.text)
        .join(''),
      'say messages',
    );
  });

  it('counts both routes against the token quota at once, then refuses each without reaching OpenRouter', async () => {
    const t = await newTenantKey(app, { token_quota: 2 * PER_REQUEST, quota_period: 'day' });
    const tokensUsed = async () =>
      (await app.request('GET', `/api/tenants/${t.tenantId}/api-keys/${t.keyId}`, { headers: t.session() })).body
        .tokens_used;
    const first = await post(app, RESPONSES, t.key, responsesBody({ stream: true }));
    await first.text();
    assert.equal(await tokensUsed(), PER_REQUEST, 'the stream’s response.completed usage');
    const second = await post(app, MESSAGES, t.key, messagesBody({ stream: true }));
    await second.text();
    assert.equal(await tokensUsed(), 2 * PER_REQUEST, 'message_start input and message_delta output');

    const calls = usersCalls('responses', t) + usersCalls('messages', t);
    const refusedResponses = await post(app, RESPONSES, t.key, responsesBody());
    remember(refusedResponses, 'v1/responses');
    assert.equal(refusedResponses.status, 429);
    assertOpenAiError(await refusedResponses.json(), 'insufficient_quota', 'quota_exceeded');
    const refusedMessages = await post(app, MESSAGES, t.key, messagesBody());
    remember(refusedMessages, 'v1/messages');
    assert.equal(refusedMessages.status, 429);
    assertAnthropicError(429, await refusedMessages.json(), 'rate_limit_error', 'quota_exceeded');
    assert.equal(usersCalls('responses', t) + usersCalls('messages', t), calls, 'refused before OpenRouter');
  });

  it('renews a revoked upstream key once for 12 concurrent responses and messages, retrying each once', async () => {
    const t = await newTenantKey(app);
    const oldKey = t.openRouterKey!;
    fake.revokeKey(oldKey);
    const created = fake.createdCount;
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2
          ? post(app, RESPONSES, t.key, responsesBody({ stream: i % 4 === 1 }))
          : post(app, MESSAGES, t.key, messagesBody({ stream: i % 4 === 0 })),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.text()));
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(12).fill(200),
      bodies.find((b) => b.includes('"error"')),
    );
    assert.equal(fake.createdCount, created + 1, 'exactly one new upstream key');
    const renewed = responses.filter((r) => r.headers.get('x-openrouter-key-renewed') === 'true').length;
    assert.ok(renewed >= 1);
    const onOldKey = (r: LoggedRequest) => r.keyHash === fake.keys.find((k) => k.key === oldKey)?.hash;
    assert.equal(
      fake.requests.filter((r) => (r.route === 'responses' || r.route === 'messages') && onOldKey(r)).length,
      renewed,
      'each request that met the 401 was retried once',
    );
  });

  it('holds the key’s rate limit on both routes (429 rate_limited, Anthropic’s shape on /messages)', async () => {
    const t = await newTenantKey(app, { rate_limit_per_minute: 2 });
    assert.equal(
      (await post(app, RESPONSES, t.key, responsesBody()).then(async (r) => (await r.text(), r))).status,
      200,
    );
    assert.equal((await post(app, MESSAGES, t.key, messagesBody()).then(async (r) => (await r.text(), r))).status, 200);
    const limitedMessages = await post(app, MESSAGES, t.key, messagesBody());
    assert.equal(limitedMessages.status, 429);
    assert.ok(Number(limitedMessages.headers.get('retry-after')) > 0);
    assertAnthropicError(429, await limitedMessages.json(), 'rate_limit_error', 'rate_limited');
    const limitedResponses = await post(app, RESPONSES, t.key, responsesBody());
    assert.equal(limitedResponses.status, 429);
    assertOpenAiError(await limitedResponses.json(), 'rate_limit_error', 'rate_limited');
  });

  it('answers every refusal from the edge on /messages in Anthropic’s shape', async () => {
    const t = await newTenantKey(app);
    const noChat = await newTenantKey(app, { scopes: ['usage:read'] });
    const cases: [string, Promise<Response>, number, string, string][] = [
      ['no key', post(app, MESSAGES, null, messagesBody()), 401, 'authentication_error', 'unauthenticated'],
      [
        'unknown key',
        post(app, MESSAGES, `umk_${'x'.repeat(43)}`, messagesBody()),
        401,
        'authentication_error',
        'invalid_api_key',
      ],
      ['no chat scope', post(app, MESSAGES, noChat.key, messagesBody()), 403, 'permission_error', 'forbidden'],
      ['bad JSON', post(app, MESSAGES, t.key, '{"model": '), 400, 'invalid_request_error', 'invalid_json'],
      ['not an object', post(app, MESSAGES, t.key, [1]), 400, 'invalid_request_error', 'invalid_request_body'],
      [
        'stream not a boolean',
        post(app, MESSAGES, t.key, messagesBody({ stream: 'yes' })),
        400,
        'invalid_request_error',
        'invalid_request_body',
      ],
      [
        'over 10 MiB',
        post(app, MESSAGES, t.key, JSON.stringify(messagesBody({ pad: 'x'.repeat(10 * 1024 * 1024) }))),
        413,
        'invalid_request_error',
        'payload_too_large',
      ],
      [
        'unknown route below it',
        post(app, `${MESSAGES}/count_tokens`, t.key, messagesBody()),
        404,
        'not_found_error',
        'not_found',
      ],
    ];
    for (const [what, pending, status, type, code] of cases) {
      const res = await pending;
      assert.equal(res.status, status, what);
      assertAnthropicError(status, await res.json(), type, code);
    }
    assert.equal(usersCalls('messages', t), 0);
  });

  it('maps OpenRouter’s refusals to catalogue codes, its message kept: Anthropic’s shape on /messages', async () => {
    const t = await newTenantKey(app);
    fake.chatStatusForKey(t.openRouterKey!, 402, { error: { code: 402, message: 'Insufficient credits' } });
    const poor = await post(app, MESSAGES, t.key, messagesBody({ stream: true }));
    remember(poor, 'v1/messages');
    assert.equal(poor.status, 402);
    const poorBody: any = await poor.json();
    assertAnthropicError(402, poorBody, 'invalid_request_error', 'upstream_insufficient_credits');
    assert.equal(poorBody.error.message, 'Insufficient credits');
    fake.chatStatusForKey(t.openRouterKey!, null);

    fake.failNext('messages', {
      status: 429,
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'Provider is rate limited' } },
    });
    const limited = await post(app, MESSAGES, t.key, messagesBody());
    assert.equal(limited.status, 429);
    assertAnthropicError(429, await limited.json(), 'rate_limit_error', 'upstream_rate_limited');
    fake.failNext('messages', { status: 502 });
    const failed = await post(app, MESSAGES, t.key, messagesBody());
    assert.equal(failed.status, 502);
    assertAnthropicError(502, await failed.json(), 'api_error', 'upstream_error');

    // OpenRouter's Responses API is stateless: its refusal of a stored response is relayed, in OpenAI's shape.
    const stateful = await post(app, RESPONSES, t.key, responsesBody({ previous_response_id: 'resp_123' }));
    remember(stateful, 'v1/responses');
    assert.equal(stateful.status, 400);
    const statefulBody: any = await stateful.json();
    assertOpenAiError(statefulBody, 'invalid_request_error', 'upstream_bad_request');
    assert.match(statefulBody.error.message, /previous_response_id/);
  });

  it('records each request with its route, tokens and cost (read once the server has written them)', async () => {
    await app.stop();
    stopped = true;
    const endpoint = await openDatabaseEndpoint({
      databaseUrl: database.env.DATABASE_URL,
      dataDir: database.env.DATA_DIR ?? '',
      poolSize: 1,
    });
    const client = new Client({ connectionString: endpoint.url });
    try {
      await client.connect();
      const { rows } = await client.query<{
        request_id: string;
        route: string | null;
        status_code: number;
        total_tokens: number;
        cost: string | null;
      }>(`SELECT request_id, route, status_code, total_tokens, cost FROM usage_records WHERE request_id = ANY($1)`, [
        answered.map((a) => a.requestId),
      ]);
      const byId = new Map(rows.map((r) => [r.request_id, r]));
      for (const a of answered) {
        const row = byId.get(a.requestId);
        assert.ok(row, `a usage record for ${a.route} ${a.status}`);
        assert.deepEqual([row.route, row.status_code], [a.route, a.status], a.requestId);
        if (a.status === 200) assert.deepEqual([row.total_tokens, Number(row.cost)], [PER_REQUEST, USAGE.cost]);
      }
      const routes = new Set(rows.map((r) => r.route));
      assert.deepEqual([...routes].sort(), ['v1/messages', 'v1/responses']);
    } finally {
      await client.end().catch(() => undefined);
      await endpoint.close();
    }
  });
});

describe('responses and messages, when the caller leaves', () => {
  const fake = new FakeOpenRouter({ usage: USAGE });
  let app: TestApp;

  // A server process of its own: the caller leaving is what is tested, not the shutdown that follows it.
  before(async () => {
    await fake.start();
    app = await startApp({ openRouter: fake, redis: redisAvailable(), env: { OPENROUTER_CHAT_TIMEOUT_MS: '3000' } });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  it('aborts the upstream stream when the caller goes away mid-stream', async () => {
    const t = await newTenantKey(app);
    for (const [path, body] of [
      [RESPONSES, responsesBody({ stream: true })],
      [MESSAGES, messagesBody({ stream: true })],
    ] as const) {
      const hold = fake.holdStreams();
      const abort = new AbortController();
      const aborted = once(fake, 'abort');
      const res = await post(app, path, t.key, body, { signal: abort.signal });
      assert.equal(res.status, 200);
      await hold.firstChunkSent;
      // The first event reached the caller, as it arrived: then the caller leaves.
      const reader = res.body!.getReader();
      assert.match(new TextDecoder().decode((await reader.read()).value), /OPENROUTER PROCESSING|event: /);
      abort.abort();
      const [entry] = (await aborted) as [LoggedRequest];
      assert.equal(entry.path, `/api/v1${path.slice('/api/v1'.length)}`);
      hold.release();
    }
  });
});
