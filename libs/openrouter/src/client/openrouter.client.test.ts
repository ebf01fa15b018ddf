import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Logger, type LoggerService } from '@nestjs/common';
import { OpenRouterClient, OpenRouterError, type OpenRouterClientOptions } from './index';

const PROVISIONING_KEY = 'sk-or-v1-provisioning0000000000000000000000000000000000000000000000000fa11';
const USER_KEY = 'sk-or-v1-user1111111111111111111111111111111111111111111111111111111b465';
const CREATED_KEY = 'sk-or-v1-created22222222222222222222222222222222222222222222222222222c0de';
const HASH = 'f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943';

// ---- A fake OpenRouter on loopback ----

interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string, n: number) => void;

let server: http.Server;
let port = 0;
let handler: Handler = (_req, res) => json(res, 500, {});
let seen: SeenRequest[] = [];

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// ---- Logs, captured to check that no secret is ever logged ----

const logs: string[] = [];
const captureLogger: LoggerService = {
  log: (m: unknown) => void logs.push(String(m)),
  error: (m: unknown) => void logs.push(String(m)),
  warn: (m: unknown) => void logs.push(String(m)),
  debug: (m: unknown) => void logs.push(String(m)),
  verbose: (m: unknown) => void logs.push(String(m)),
};

const clients: OpenRouterClient[] = [];
function client(overrides: Partial<OpenRouterClientOptions> = {}): OpenRouterClient {
  const c = new OpenRouterClient({
    baseUrl: `http://127.0.0.1:${port}/api/v1/`, // trailing slash on purpose: must be normalised
    provisioningKey: PROVISIONING_KEY,
    timeoutMs: 1_000,
    retryBaseDelayMs: 5,
    ...overrides,
  });
  clients.push(c);
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<OpenRouterError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OpenRouterError, `expected OpenRouterError, got ${inspect(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

function assertNoSecrets(text: string): void {
  for (const secret of [PROVISIONING_KEY, USER_KEY, CREATED_KEY]) {
    assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`);
  }
  assert.ok(!/authorization/i.test(text), `Authorization header leaked in: ${text.slice(0, 300)}`);
}

function assertErrorIsClean(err: OpenRouterError): void {
  assertNoSecrets(err.message);
  assertNoSecrets(String(err));
  assertNoSecrets(JSON.stringify(err));
  assertNoSecrets(inspect(err, { depth: 10, showHidden: true }));
  assertNoSecrets(String(err.stack));
}

const upstreamKey = (i: number) => ({
  hash: `hash-${i}`,
  name: `user-${i}`,
  label: `sk-or-v1-ab${i}…1c96`,
  disabled: false,
  limit: 15,
  limit_remaining: 14.5,
  usage: 0.5,
  created_at: '2025-08-24T10:30:00Z',
  updated_at: null,
});

// One suite, so that its hooks (the captured logger above all) hold for these tests only, also when other
// specs share the process.
describe('OpenRouterClient', () => {
  before(async () => {
    Logger.overrideLogger(captureLogger);
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
        handler(req, res, body, seen.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    seen = [];
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.onModuleDestroy()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.ok(
      logs.some((l) => l.includes('/keys')),
      'management calls are logged',
    );
    assertNoSecrets(logs.join('\n'));
  });

  // ---- Tests ----

  describe('createKey', () => {
    it('reads the plaintext from top-level `key` and sends the provisioning key', async () => {
      handler = (_req, res) =>
        json(res, 201, {
          key: CREATED_KEY,
          data: {
            hash: HASH,
            name: 'user-1',
            label: 'sk-or-v1-cre…c0de',
            limit: 15,
            created_at: '2025-08-24T10:30:00Z',
          },
        });
      const created = await client().createKey({ name: 'user-1', limit: 15 });
      assert.deepEqual(created, {
        key: CREATED_KEY,
        hash: HASH,
        name: 'user-1',
        label: 'sk-or-v1-cre…c0de',
        limit: 15,
        createdAt: '2025-08-24T10:30:00Z',
      });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].method, 'POST');
      assert.equal(seen[0].url, '/api/v1/keys');
      assert.equal(seen[0].authorization, `Bearer ${PROVISIONING_KEY}`);
      assert.deepEqual(JSON.parse(seen[0].body), { name: 'user-1', limit: 15 });
    });

    it('reads the plaintext from `data.key` in older answers', async () => {
      handler = (_req, res) =>
        json(res, 200, { data: { key: CREATED_KEY, hash: HASH, name: 'n', label: null, limit: null } });
      const created = await client().createKey({ name: 'n' });
      assert.equal(created.key, CREATED_KEY);
      assert.equal(created.hash, HASH);
      assert.equal(created.limit, null);
      assert.deepEqual(JSON.parse(seen[0].body), { name: 'n' });
    });

    it('is not retried on 500: one call, openrouter_unavailable', async () => {
      handler = (_req, res) => json(res, 500, { error: { code: 500, message: 'boom' } });
      const err = await rejection(client().createKey({ name: 'n', limit: 15 }));
      assert.equal(err.code, 'openrouter_unavailable');
      assert.equal(err.upstreamStatus, 500);
      assert.equal(seen.length, 1);
      assertErrorIsClean(err);
    });

    it('is not retried on timeout: one call, openrouter_timeout', async () => {
      handler = (_req, res) => setTimeout(() => json(res, 201, { key: CREATED_KEY, data: { hash: HASH } }), 300);
      const err = await rejection(client({ timeoutMs: 80 }).createKey({ name: 'n' }));
      assert.equal(err.code, 'openrouter_timeout');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 1);
      assertErrorIsClean(err);
    });

    it('maps a 2xx without a key, or not JSON, to openrouter_bad_response', async () => {
      handler = (_req, res) => json(res, 201, { data: { hash: HASH } });
      assert.equal((await rejection(client().createKey({ name: 'n' }))).code, 'openrouter_bad_response');
      handler = (_req, res) => {
        res.writeHead(201, { 'content-type': 'text/html' });
        res.end('<html>oops</html>');
      };
      const err = await rejection(client().createKey({ name: 'n' }));
      assert.equal(err.code, 'openrouter_bad_response');
      assert.equal(err.upstreamStatus, 201);
    });

    it('fails with openrouter_not_configured before any I/O without a provisioning key', async () => {
      const c = client({ provisioningKey: undefined });
      assert.equal(c.provisioningConfigured, false);
      for (const call of [() => c.createKey({ name: 'n' }), () => c.listKeys(), () => c.deleteKey(HASH)]) {
        assert.equal((await rejection(call())).code, 'openrouter_not_configured');
      }
      assert.equal(client({ provisioningKey: '  ' }).provisioningConfigured, false);
      assert.equal(seen.length, 0);
    });

    it('maps a 4xx to openrouter_rejected with the status, without retry, and leaks no key', async () => {
      handler = (_req, res) => json(res, 401, { error: { code: 401, message: `bad key ${PROVISIONING_KEY}` } });
      const err = await rejection(client().createKey({ name: 'n' }));
      assert.equal(err.code, 'openrouter_rejected');
      assert.equal(err.upstreamStatus, 401);
      assert.equal(err.retryable, false);
      assertErrorIsClean(err);
    });
  });

  describe('idempotent management calls', () => {
    it('deleteKey is retried on 503 and then succeeds', async () => {
      handler = (_req, res, _b, n) => (n === 1 ? json(res, 503, {}) : json(res, 200, { deleted: true }));
      assert.deepEqual(await client().deleteKey(HASH), { alreadyGone: false });
      assert.equal(seen.length, 2);
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url}`),
        [`DELETE /api/v1/keys/${HASH}`, `DELETE /api/v1/keys/${HASH}`],
      );
    });

    it('deleteKey resolves alreadyGone on 404', async () => {
      handler = (_req, res) => json(res, 404, { error: { code: 404, message: 'Not found' } });
      assert.deepEqual(await client().deleteKey(HASH), { alreadyGone: true });
      assert.equal(seen.length, 1);
    });

    it('listKeys is retried on 503, then maps the page', async () => {
      handler = (_req, res, _b, n) => (n === 1 ? json(res, 503, {}) : json(res, 200, { data: [upstreamKey(1)] }));
      const { keys } = await client().listKeys({ offset: 100, includeDisabled: true });
      assert.equal(seen.length, 2);
      assert.equal(seen[1].url, '/api/v1/keys?offset=100&include_disabled=true');
      assert.deepEqual(keys, [
        {
          hash: 'hash-1',
          name: 'user-1',
          label: 'sk-or-v1-ab1…1c96',
          disabled: false,
          limit: 15,
          limitRemaining: 14.5,
          limitReset: null,
          usage: 0.5,
          usageDaily: null,
          usageWeekly: null,
          usageMonthly: null,
          createdAt: '2025-08-24T10:30:00Z',
          updatedAt: null,
        },
      ]);
    });

    it('honours Retry-After on 429', async () => {
      handler = (_req, res, _b, n) =>
        n === 1 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, { data: [] });
      assert.deepEqual(await client().listKeys(), { keys: [] });
      assert.equal(seen.length, 2);
    });

    it('gives up after maxRetries with openrouter_unavailable', async () => {
      handler = (_req, res) => json(res, 502, {});
      const err = await rejection(client({ maxRetries: 2 }).listKeys());
      assert.equal(err.code, 'openrouter_unavailable');
      assert.equal(err.upstreamStatus, 502);
      assert.equal(err.retryable, true);
      assert.equal(seen.length, 3);
    });

    it('retries nothing once closed: a call cut off by shutdown fails after its one attempt', async () => {
      const c = client({ maxRetries: 3 });
      handler = (_req, res) => {
        // The app shuts down while this call waits for its answer.
        void c.onModuleDestroy().then(() => json(res, 503, {}));
      };
      const err = await rejection(c.listKeys());
      assert.equal(err.code, 'openrouter_unavailable');
      assert.equal(seen.length, 1);
    });

    it('does not retry a 4xx', async () => {
      handler = (_req, res) => json(res, 400, { error: { code: 400, message: 'bad limit' } });
      const err = await rejection(client().updateKey(HASH, { limit: -1 }));
      assert.equal(err.code, 'openrouter_rejected');
      assert.equal(err.upstreamStatus, 400);
      assert.equal(seen.length, 1);
    });

    it('updateKey sends a PATCH and maps the answer', async () => {
      handler = (_req, res) => json(res, 200, { data: { ...upstreamKey(7), disabled: true } });
      const key = await client().updateKey(HASH, { disabled: true, limit: null });
      assert.equal(key.disabled, true);
      assert.equal(seen[0].method, 'PATCH');
      assert.deepEqual(JSON.parse(seen[0].body), { disabled: true, limit: null });
    });

    it('getKey maps the answer', async () => {
      handler = (_req, res) => json(res, 200, { data: upstreamKey(3) });
      assert.equal((await client().getKey('hash-3')).name, 'user-3');
      assert.equal(seen[0].url, '/api/v1/keys/hash-3');
    });

    it("getKey reads the key's period and its usage per day, week and month", async () => {
      handler = (_req, res) =>
        json(res, 200, {
          data: { ...upstreamKey(4), limit_reset: 'weekly', usage_daily: 0.1, usage_weekly: 0.3, usage_monthly: 0.4 },
        });
      const key = await client().getKey('hash-4');
      assert.deepEqual(
        [key.limitReset, key.usage, key.usageDaily, key.usageWeekly, key.usageMonthly],
        ['weekly', 0.5, 0.1, 0.3, 0.4],
      );
    });

    it('sends limit_reset when creating and updating a key', async () => {
      handler = (req, res) =>
        req.method === 'POST'
          ? json(res, 201, { key: CREATED_KEY, data: { hash: HASH, name: 'n', limit: 4 } })
          : json(res, 200, { data: { ...upstreamKey(5), limit_reset: null } });
      await client().createKey({ name: 'n', limit: 4, limitReset: 'daily' });
      await client().updateKey(HASH, { limit: 15, limitReset: null });
      assert.deepEqual(JSON.parse(seen[0].body), { name: 'n', limit: 4, limit_reset: 'daily' });
      assert.deepEqual(JSON.parse(seen[1].body), { limit: 15, limit_reset: null });
    });

    it('iterateKeys pages until a short page', async () => {
      handler = (req, res) => {
        const offset = Number(new URL(req.url ?? '', 'http://x').searchParams.get('offset') ?? 0);
        const count = offset < 200 ? 100 : 3;
        json(res, 200, { data: Array.from({ length: count }, (_, i) => upstreamKey(offset + i)) });
      };
      const hashes: string[] = [];
      for await (const key of client().iterateKeys()) hashes.push(key.hash);
      assert.equal(hashes.length, 203);
      assert.equal(new Set(hashes).size, 203);
      assert.deepEqual(
        seen.map((s) => s.url),
        ['/api/v1/keys', '/api/v1/keys?offset=100', '/api/v1/keys?offset=200'],
      );
    });

    it('iterateKeys stops when the upstream ignores offset', async () => {
      handler = (_req, res) => json(res, 200, { data: Array.from({ length: 100 }, (_, i) => upstreamKey(i)) });
      let n = 0;
      for await (const _key of client().iterateKeys()) n++;
      assert.equal(n, 100);
      assert.equal(seen.length, 2);
    });

    it('maps a timeout to openrouter_timeout (retried, then given up)', async () => {
      handler = (_req, res) => setTimeout(() => json(res, 200, { data: [] }), 300);
      const err = await rejection(client({ timeoutMs: 60, maxRetries: 1 }).listKeys());
      assert.equal(err.code, 'openrouter_timeout');
      assert.equal(err.retryable, true);
      assert.equal(seen.length, 2);
      assertErrorIsClean(err);
    });

    it('listModels sends no Authorization header', async () => {
      handler = (_req, res) => json(res, 200, { data: [{ id: 'openai/gpt-4o' }] });
      assert.deepEqual(await client({ provisioningKey: undefined }).listModels(), { data: [{ id: 'openai/gpt-4o' }] });
      assert.equal(seen[0].url, '/api/v1/models');
      assert.equal(seen[0].authorization, undefined);
    });
  });

  describe('connection errors', () => {
    let closedPort = 0;
    before(async () => {
      const s = http.createServer();
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      closedPort = (s.address() as AddressInfo).port;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    });

    it('ECONNREFUSED maps to openrouter_unavailable, for management and runtime calls', async () => {
      const c = client({ baseUrl: `http://127.0.0.1:${closedPort}/api/v1`, maxRetries: 1 });
      const mgmt = await rejection(c.deleteKey(HASH));
      assert.equal(mgmt.code, 'openrouter_unavailable');
      assert.equal(mgmt.retryable, true);
      assert.match(mgmt.message, /ECONNREFUSED/);
      assertErrorIsClean(mgmt);

      const runtime = await rejection(c.chatCompletion(USER_KEY, { model: 'm', messages: [] }, { stream: false }));
      assert.equal(runtime.code, 'openrouter_unavailable');
      assertErrorIsClean(runtime);
    });
  });

  describe('chatCompletion', () => {
    const body = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

    it('returns 200 JSON with the user key as Bearer', async () => {
      handler = (_req, res) =>
        json(res, 200, { id: 'gen-1', usage: { total_tokens: 3 } }, { 'x-generation-id': 'gen-1' });
      const res = await client().chatCompletion(USER_KEY, body, { stream: false });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { id: 'gen-1', usage: { total_tokens: 3 } });
      assert.equal(res.headers['x-generation-id'], 'gen-1');
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(seen[0].url, '/api/v1/chat/completions');
      assert.equal(seen[0].authorization, `Bearer ${USER_KEY}`);
      assert.deepEqual(JSON.parse(seen[0].body), body);
    });

    it('returns 401 and 402 as data, never retried', async () => {
      for (const status of [401, 402]) {
        seen = [];
        handler = (_req, res) => json(res, status, { error: { code: status, message: 'nope' } });
        const res = await client().chatCompletion(USER_KEY, body, { stream: false });
        assert.equal(res.status, status);
        assert.deepEqual(res.json, { error: { code: status, message: 'nope' } });
        assert.equal(seen.length, 1);
      }
    });

    it('returns a 503 as data and does not retry it', async () => {
      handler = (_req, res) => json(res, 503, { error: { code: 503, message: 'no provider' } });
      const res = await client().chatCompletion(USER_KEY, body, { stream: false });
      assert.equal(res.status, 503);
      assert.equal(seen.length, 1);
    });

    it('streams SSE chunks as they arrive, past the header timeout', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': OPENROUTER PROCESSING\n\n');
        res.write('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n');
        // Longer than timeoutMs: the timeout must only cover the wait for headers.
        setTimeout(() => {
          res.write('data: {"choices":[{"delta":{"content":"lo"}}],"usage":{"total_tokens":5}}\n\n');
          res.end('data: [DONE]\n\n');
        }, 250);
      };
      const res = await client({ timeoutMs: 100 }).chatCompletion(
        USER_KEY,
        { ...body, stream: true },
        { stream: true },
      );
      assert.equal(res.status, 200);
      assert.ok(res.stream, 'expected a stream');
      assert.equal(res.json, undefined);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      const chunks: string[] = [];
      for await (const chunk of res.stream) chunks.push(String(chunk));
      assert.ok(chunks.length >= 2, 'expected several chunks');
      const text = chunks.join('');
      assert.match(text, /"Hel"/);
      assert.match(text, /"lo"/);
      assert.match(text, /data: \[DONE\]/);
    });

    async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
      let text = '';
      for await (const chunk of stream) text += String(chunk);
      return text;
    }

    it('a caller abort mid-stream errors the stream with a clean OpenRouterError', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[]}\n\n');
      };
      const controller = new AbortController();
      const res = await client().chatCompletion(USER_KEY, body, { stream: true, signal: controller.signal });
      assert.ok(res.stream);
      setTimeout(() => controller.abort(), 30);
      const err = await rejection(readAll(res.stream));
      assert.equal(err.code, 'openrouter_unavailable');
      assertErrorIsClean(err);
    });

    it('an upstream cut mid-stream errors the stream with a clean OpenRouterError', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[]}\n\n');
        setTimeout(() => res.socket?.destroy(), 30);
      };
      const res = await client().chatCompletion(USER_KEY, body, { stream: true });
      assert.ok(res.stream);
      const err = await rejection(readAll(res.stream));
      assert.equal(err.code, 'openrouter_unavailable');
      assertErrorIsClean(err);
    });

    it('destroying the stream closes the upstream request', async () => {
      let upstreamClosed!: () => void;
      const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[]}\n\n');
        res.once('close', () => upstreamClosed());
      };
      const res = await client().chatCompletion(USER_KEY, body, { stream: true });
      assert.ok(res.stream);
      (res.stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      await closed;
    });

    it('returns the parsed error body of a streamed request that failed', async () => {
      handler = (_req, res) => json(res, 402, { error: { code: 402, message: 'Insufficient credits' } });
      const res = await client().chatCompletion(USER_KEY, { ...body, stream: true }, { stream: true });
      assert.equal(res.status, 402);
      assert.equal(res.stream, undefined);
      assert.deepEqual(res.json, { error: { code: 402, message: 'Insufficient credits' } });
    });

    it('maps a wait for headers beyond the timeout to openrouter_timeout', async () => {
      // The wait for headers is timed on undici's shared clock (about one second's resolution).
      handler = (_req, res) => setTimeout(() => json(res, 200, {}), 3000);
      const err = await rejection(client({ timeoutMs: 60 }).chatCompletion(USER_KEY, body, { stream: true }));
      assert.equal(err.code, 'openrouter_timeout');
      assert.equal(seen.length, 1);
      assertErrorIsClean(err);
    });

    it('stops when the caller aborts', async () => {
      handler = (_req, res) => setTimeout(() => json(res, 200, {}), 300);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const err = await rejection(
        client().chatCompletion(USER_KEY, body, { stream: false, signal: controller.signal }),
      );
      assert.equal(err.code, 'openrouter_unavailable');
      assert.equal(err.retryable, false);
      assertErrorIsClean(err);
    });
  });
});
