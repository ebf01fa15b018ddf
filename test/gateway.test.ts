/**
 * The OpenAI-compatible gateway over HTTP, against the fake OpenRouter: plain and streamed completions
 * with both header forms, auto-renewal (one renewal for 20 concurrent 401s, no loop on a second 401),
 * 402/403 passed on (status and message kept, catalogue codes), streaming chunk by chunk, client disconnects, upstream failures, auth errors in
 * OpenAI's shape, first-use provisioning and the cached model list.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { FakeOpenRouter, type LoggedRequest } from './support/fake-openrouter';
import { collectSse, sseData } from './support/sse';
import { fixedSession, newClerkUser } from './support/users';
import { chatBody, eventually, keyHeaders, newTenantKey, postChat, type AuthStyle } from './gateway-helpers';

const ADMIN = newClerkUser();

function assertOpenAiError(body: any, status: string, type: string, code: string): void {
  assert.equal(typeof body?.error?.message, 'string', `${status}: ${JSON.stringify(body)}`);
  assert.equal(body.error.type, type, `${status}: ${JSON.stringify(body)}`);
  assert.equal(body.error.code, code, `${status}: ${JSON.stringify(body)}`);
}

describe('OpenAI-compatible gateway', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      env: { OPENROUTER_TIMEOUT_MS: '1500', OPENROUTER_CHAT_TIMEOUT_MS: '1500', PLATFORM_ADMIN_USER_IDS: ADMIN.sub },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  describe('completions', () => {
    for (const style of ['x-api-key', 'bearer'] as AuthStyle[]) {
      it(`answers a plain completion on the user's own OpenRouter key (${style})`, async () => {
        const t = await newTenantKey(app);
        fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 });
        const res = await postChat(app, t.key, chatBody(), { style });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        assert.equal(res.headers.get('x-openrouter-key-renewed'), null);
        assert.match(res.headers.get('x-request-id') ?? '', /.+/);
        const body: any = await res.json();
        assert.equal(body.object, 'chat.completion');
        assert.equal(body.choices[0].message.content, 'hello there');
        assert.deepEqual(
          [body.usage.prompt_tokens, body.usage.completion_tokens, body.usage.total_tokens, body.usage.cost],
          [10, 20, 30, 0.0001],
        );
        const call = fake.requests.filter((r) => r.route === 'chat').at(-1)!;
        assert.equal(fake.chatCallsFor(t.openRouterKey!), 1, 'sent with the user’s own key');
        assert.deepEqual(call.body, chatBody(), 'the body is forwarded unchanged');
      });

      it(`relays a streamed completion as server-sent events (${style})`, async () => {
        const t = await newTenantKey(app);
        const res = await postChat(app, t.key, chatBody({ stream: true }), { style });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'text/event-stream');
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        assert.equal(res.headers.get('x-accel-buffering'), 'no');
        assert.match(res.headers.get('x-request-id') ?? '', /.+/);
        const { chunks, done } = await collectSse(res);
        assert.equal(done, true, 'ends with [DONE]');
        assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'hello there');
        assert.equal(chunks.at(-1).usage.total_tokens, 30);
        assert.equal(fake.chatCallsFor(t.openRouterKey!), 1);
      });
    }

    it('streams chunk by chunk: the first chunk reaches the caller before the upstream sends its last', async () => {
      const t = await newTenantKey(app);
      const hold = fake.holdStreams();
      try {
        const res = await postChat(app, t.key, chatBody({ stream: true }));
        assert.equal(res.status, 200);
        const events = sseData(res);
        const first = await events.next();
        assert.equal(first.done, false);
        assert.equal(JSON.parse(first.value!).choices[0].delta.content.length > 0, true);
        // The fake is still holding the rest of the stream: the relay did not wait for the end.
        hold.release();
        const rest: string[] = [];
        for await (const data of events) rest.push(data);
        assert.equal(rest.at(-1), '[DONE]');
      } finally {
        hold.release();
      }
    });

    it('aborts the upstream request when the caller disconnects mid-stream', async () => {
      const t = await newTenantKey(app);
      const hold = fake.holdStreams();
      try {
        const caller = new AbortController();
        const res = await postChat(app, t.key, chatBody({ stream: true }), { signal: caller.signal });
        const events = sseData(res);
        await events.next();
        const aborted = once(fake, 'abort') as Promise<[LoggedRequest]>;
        caller.abort();
        const [entry] = await aborted;
        assert.equal(entry.route, 'chat');
        assert.equal(entry.aborted, true);
      } finally {
        hold.release();
      }
    });

    it('aborts the upstream request when the caller disconnects before a plain answer', async () => {
      const t = await newTenantKey(app);
      fake.failNext('chat', { delayMs: 3000 });
      const caller = new AbortController();
      const calls = fake.chatCalls;
      const pending = postChat(app, t.key, chatBody(), { signal: caller.signal }).catch((err: Error) => err);
      await eventually(
        () => fake.chatCalls,
        (n) => n > calls,
        'the upstream call',
      );
      const aborted = once(fake, 'abort') as Promise<[LoggedRequest]>;
      caller.abort();
      const [entry] = await aborted;
      assert.equal(entry.route, 'chat');
      assert.ok((await pending) instanceof Error);
      // The app is fine afterwards.
      assert.equal((await postChat(app, t.key)).status, 200);
    });

    it('provisions a key at the first chat for a user who has none', async () => {
      fake.failNext('keys.create', { status: 500 });
      const t = await newTenantKey(app);
      assert.equal(t.openRouterKey, null, 'login provisioning failed');
      const created = fake.createdCount;
      const res = await postChat(app, t.key);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(fake.createdCount, created + 1);
      const me = await app.request('GET', '/api/users/me', { headers: t.session() });
      assert.equal(me.body.openrouter_key_status, 'active');
      assert.equal(fake.chatCallsFor(me.body.openrouter_api_key), 1);
    });

    it('answers 502 openrouter_key_unavailable when no key can be provisioned', async () => {
      fake.failNext('keys.create', { status: 500 }, 2);
      const t = await newTenantKey(app);
      const res = await postChat(app, t.key);
      assert.equal(res.status, 502);
      assertOpenAiError(await res.json(), '502', 'server_error', 'openrouter_key_unavailable');
    });
  });

  describe('auto-renewal', () => {
    it('renews a revoked upstream key once for 20 concurrent requests, and retries each', async () => {
      const t = await newTenantKey(app);
      const oldKey = t.openRouterKey!;
      fake.revokeKey(oldKey);
      const created = fake.createdCount;
      const responses = await Promise.all(Array.from({ length: 20 }, () => postChat(app, t.key)));
      const bodies: any[] = await Promise.all(responses.map((r) => r.json()));
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(20).fill(200),
        JSON.stringify(bodies.find((b) => b.error)),
      );
      assert.ok(bodies.every((b) => b.choices[0].message.content === 'hello there'));
      assert.equal(fake.createdCount, created + 1, 'exactly one new upstream key');
      const renewedResponses = responses.filter((r) => r.headers.get('x-openrouter-key-renewed') === 'true').length;
      assert.ok(renewedResponses >= 1, 'the requests that hit the 401 say so');
      assert.equal(fake.chatCallsFor(oldKey), renewedResponses, 'each request that hit the 401 was retried once');

      const me = await app.request('GET', '/api/users/me', { headers: t.session() });
      assert.notEqual(me.body.openrouter_api_key, oldKey);
      assert.equal(me.body.openrouter_key.renewal_count, 1);
      assert.equal(me.body.openrouter_key.auto_renewed, true);
      assert.ok(me.body.openrouter_key.last_renewal_at);
      assert.equal(fake.chatCallsFor(me.body.openrouter_api_key), 20, 'every request was answered on the new key');

      const audit = await app.request('GET', '/api/admin/audit-events?action=openrouter_key.auto_renewed&limit=100', {
        headers: fixedSession(ADMIN)(),
      });
      assert.equal(audit.status, 200, audit.text);
      const events = audit.body.data.filter((e: any) => e.target_id === t.userId);
      assert.equal(events.length, 1);
      assert.deepEqual([events[0].actor_type, events[0].actor_id], ['api_key', t.keyId]);

      // Later requests use the new key straight away.
      const later = await postChat(app, t.key);
      assert.equal(later.status, 200);
      assert.equal(later.headers.get('x-openrouter-key-renewed'), null);
    });

    it('returns a second 401 as it is, without a loop', async () => {
      const t = await newTenantKey(app);
      const created = fake.createdCount;
      const calls = fake.chatCalls;
      fake.setMode('chat', { status: 401 });
      try {
        const res = await postChat(app, t.key);
        assert.equal(res.status, 401);
        // OpenRouter's message under the catalogue's code for its status.
        assert.deepEqual(await res.json(), {
          error: { message: 'Unauthorized', type: 'authentication_error', code: 'upstream_unauthorized', param: null },
        });
        assert.equal(res.headers.get('x-openrouter-key-renewed'), 'true');
        assert.equal(fake.chatCalls - calls, 2, 'the original call and one retry');
        assert.equal(fake.createdCount, created + 1, 'one renewal');
      } finally {
        fake.clearModes();
      }
    });

    for (const status of [402, 403]) {
      it(`passes ${status} on (status and message kept, a catalogue code) and never renews`, async () => {
        const t = await newTenantKey(app);
        const upstreamBody = {
          error: {
            code: status,
            message: status === 402 ? 'Insufficient credits' : 'Key limit exceeded',
            metadata: { x: 1 },
          },
        };
        const type = status === 402 ? 'insufficient_quota' : 'permission_error';
        const code = status === 402 ? 'upstream_insufficient_credits' : 'upstream_forbidden';
        fake.chatStatusForKey(t.openRouterKey!, status, upstreamBody);
        const created = fake.createdCount;
        for (const stream of [false, true]) {
          const res = await postChat(app, t.key, chatBody({ stream }));
          assert.equal(res.status, status);
          // Never OpenRouter's body itself: no numeric code, no provider metadata.
          assert.deepEqual(await res.json(), {
            error: { message: upstreamBody.error.message, type, code, param: null },
          });
          assert.equal(res.headers.get('x-openrouter-key-renewed'), null);
        }
        assert.equal(fake.createdCount, created, 'no renewal');
        assert.equal(fake.chatCallsFor(t.openRouterKey!), 2, 'no retry');
      });
    }
  });

  describe('upstream failures', () => {
    it('maps upstream 5xx to 502 upstream_error', async () => {
      const t = await newTenantKey(app);
      fake.failNext('chat', { status: 500, body: { error: { code: 500, message: 'Internal Server Error' } } });
      const res = await postChat(app, t.key);
      assert.equal(res.status, 502);
      assertOpenAiError(await res.json(), '502', 'server_error', 'upstream_error');
      fake.failNext('chat', { status: 503 });
      const streamed = await postChat(app, t.key, chatBody({ stream: true }));
      assert.equal(streamed.status, 502);
      assertOpenAiError(await streamed.json(), '502', 'server_error', 'upstream_error');
    });

    it('maps an upstream timeout to 504 upstream_timeout', async () => {
      const t = await newTenantKey(app);
      fake.failNext('chat', { delayMs: 4000 });
      const res = await postChat(app, t.key);
      assert.equal(res.status, 504);
      assertOpenAiError(await res.json(), '504', 'server_error', 'upstream_timeout');
    });

    it('maps a refused connection to 502 upstream_unavailable', async () => {
      const t = await newTenantKey(app);
      await fake.refuseConnections();
      try {
        const res = await postChat(app, t.key);
        assert.equal(res.status, 502);
        assertOpenAiError(await res.json(), '502', 'server_error', 'upstream_unavailable');
      } finally {
        await fake.resume();
      }
      assert.equal((await postChat(app, t.key)).status, 200, 'recovers once OpenRouter is back');
    });

    it('ends a stream cut mid-way with an error event', async () => {
      const t = await newTenantKey(app);
      const hold = fake.holdStreams();
      try {
        const res = await postChat(app, t.key, chatBody({ stream: true }));
        const events = sseData(res);
        await events.next();
        await fake.refuseConnections(); // drops the open stream
        const rest: string[] = [];
        for await (const data of events) rest.push(data);
        const last = JSON.parse(rest.at(-1)!);
        assertOpenAiError(last, 'stream', 'server_error', 'upstream_stream_interrupted');
      } finally {
        hold.release();
        await fake.resume();
      }
    });
  });

  describe('errors in OpenAI shape', () => {
    it('answers authentication and authorisation failures as OpenAI errors', async () => {
      const none = await postChat(app, '', chatBody());
      assert.equal(none.status, 401);
      assertOpenAiError(await none.json(), '401', 'authentication_error', 'unauthenticated');

      const bogus = await postChat(app, 'umk_not-a-real-key', chatBody(), { style: 'bearer' });
      assert.equal(bogus.status, 401);
      assertOpenAiError(await bogus.json(), '401', 'authentication_error', 'invalid_api_key');

      const noChat = await newTenantKey(app, { scopes: ['usage:read'] });
      const forbidden = await postChat(app, noChat.key);
      assert.equal(forbidden.status, 403);
      assertOpenAiError(await forbidden.json(), '403', 'permission_error', 'forbidden');

      const limited = await newTenantKey(app, { rate_limit_per_minute: 1 });
      assert.equal((await postChat(app, limited.key)).status, 200);
      const over = await postChat(app, limited.key);
      assert.equal(over.status, 429);
      assertOpenAiError(await over.json(), '429', 'rate_limit_error', 'rate_limited');
      assert.match(over.headers.get('retry-after') ?? '', /^\d+$/);

      const models = await fetch(`${app.baseUrl}/api/v1/models`);
      assert.equal(models.status, 401);
      assertOpenAiError(await models.json(), '401', 'authentication_error', 'unauthenticated');
    });

    it('refuses a body that is not a chat request with 400 invalid_request_error', async () => {
      const t = await newTenantKey(app);
      for (const body of [[1, 2], { model: 'x', messages: [], stream: 'yes' }]) {
        const res = await postChat(app, t.key, body);
        assert.equal(res.status, 400);
        assertOpenAiError(await res.json(), '400', 'invalid_request_error', 'invalid_request_body');
      }
      const notJson = await postChat(app, t.key, '{oops');
      assert.equal(notJson.status, 400);
      assertOpenAiError(await notJson.json(), '400', 'invalid_request_error', 'invalid_json');
      assert.equal(fake.chatCallsFor(t.openRouterKey!), 0);
    });
  });

  describe('models', () => {
    it("serves OpenRouter's model list, cached: several requests, one upstream call", async () => {
      const t = await newTenantKey(app);
      const before = fake.modelsCalls;
      for (const style of ['x-api-key', 'bearer', 'x-api-key'] as AuthStyle[]) {
        const res = await fetch(`${app.baseUrl}/api/v1/models`, { headers: keyHeaders(t.key, style) });
        assert.equal(res.status, 200);
        const body: any = await res.json();
        assert.deepEqual(
          body.data.map((m: any) => m.id),
          ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku', 'meta-llama/llama-3.1-8b-instruct'],
        );
      }
      await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${app.baseUrl}/api/v1/models`, { headers: keyHeaders(t.key) }).then((r) => r.arrayBuffer()),
        ),
      );
      assert.equal(fake.modelsCalls - before, 1);
    });
  });

  it('writes no secret to the logs', async () => {
    await eventually(
      () => app.logs(),
      (logs) => logs.length > 0,
      'logs',
    );
    const logs = app.logs();
    for (const key of fake.keys) assert.ok(!logs.includes(key.key), 'an OpenRouter key leaked into the logs');
    assert.ok(!/umk_[0-9A-Za-z]{49}/.test(logs), 'a tenant API key leaked into the logs');
  });
});
