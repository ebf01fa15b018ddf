/**
 * The edge: hostile input refused as 400 (NUL, lone surrogates, deep JSON, bad dates, huge numbers), body
 * limits (413), security and cache headers, CORS, OpenAI's 404 under /api/v1, failed authentications limited
 * per client address (with and without TRUST_PROXY).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'svix';
import { startApp, type AppResponse, type TestApp } from './support/app';
import { signClerkToken } from './support/clerk-tokens';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ORIGIN = 'https://app.example.test';

function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * A POST announcing `bytes` of JSON body but sending only its first part: the answer to an over-limit
 * Content-Length comes before the body is read (and fetch, still writing, would only see the broken pipe).
 */
function postAnnounced(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  bytes: number,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...headers },
    });
    let done = false;
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        done = true;
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', (err) => done || reject(err));
    req.write(`{"name":"x","padding":"${'p'.repeat(64 * 1024)}`);
  });
}

function expectError(res: AppResponse, status: number, code: string, what = ''): void {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.code, code, `${what}: ${res.text.slice(0, 300)}`);
}

describe('the HTTP edge', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;
  let session: () => Record<string, string>;
  let tenantId: string;
  let apiKey: string;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      env: {
        CORS_ORIGINS: `${ORIGIN}, https://other.example.test`,
        TRUST_PROXY: '127.0.0.1',
        AUTH_FAILURES_PER_MINUTE: '3',
        CLERK_WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET,
      },
    });
    session = fixedSession(newClerkUser());
    const tenant = await app.request('POST', '/api/tenants', { headers: session(), body: { name: 'Edge' } });
    assert.equal(tenant.status, 201, tenant.text);
    tenantId = tenant.body.id;
    const key = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
      headers: session(),
      body: { name: 'edge' },
    });
    assert.equal(key.status, 201, key.text);
    apiKey = key.body.key;
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  /** Each call looks like another client to the app (it believes X-Forwarded-For from 127.0.0.1). */
  const fromAddress = (headers: Record<string, string> = {}) => ({
    ...headers,
    'x-forwarded-for': `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`,
  });

  describe('hostile input', () => {
    it('refuses NUL and lone surrogates in bodies as 400 validation_failed', async () => {
      const cases: [string, string, unknown][] = [
        ['POST', '/api/tenants', { name: 'bad\u0000name' }],
        ['POST', '/api/tenants', { name: 'bad\ud800name' }],
        ['POST', '/api/tenants', { name: 'bad\udc00' }],
        ['POST', `/api/tenants/${tenantId}/api-keys`, { name: 'k\u0000' }],
        ['POST', `/api/tenants/${tenantId}/members`, { email: 'a\ud83d@example.test', role: 'member' }],
      ];
      for (const [method, path, body] of cases) {
        expectError(await app.request(method, path, { headers: session(), body }), 400, 'validation_failed', path);
      }
      // A well-formed pair (an emoji) is text like any other.
      const ok = await app.request('POST', '/api/tenants', {
        headers: session(),
        body: { name: 'emoji \ud83d\ude00' },
      });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.name, 'emoji \ud83d\ude00');
    });

    it('refuses NUL in the URL and in token claims', async () => {
      expectError(
        await app.request('GET', `/api/tenants/${tenantId}/api-keys?status=%00`, { headers: session() }),
        400,
        'validation_failed',
      );
      expectError(await app.request('GET', '/api/tenants/ab%00cd', { headers: session() }), 400, 'validation_failed');
      const user = newClerkUser({ sub: `user_${randomUUID().slice(0, 8)}\u0000x` });
      const token = signClerkToken({ ...user, sid: `sess_${randomUUID().replace(/-/g, '')}` });
      expectError(
        await app.request('GET', '/api/users/me', { headers: { authorization: `Bearer ${token}` } }),
        400,
        'validation_failed',
        'NUL in sub',
      );
      const named = newClerkUser({ first_name: 'Ada\ud800' });
      const token2 = signClerkToken({ ...named, sid: `sess_${randomUUID().replace(/-/g, '')}` });
      expectError(
        await app.request('GET', '/api/users/me', { headers: { authorization: `Bearer ${token2}` } }),
        400,
        'validation_failed',
        'lone surrogate in first_name',
      );
    });

    it('answers a signed webhook holding NUL with a 4xx, never a 5xx', async () => {
      const body = JSON.stringify({
        type: 'user.created',
        data: { id: `user_${randomUUID().slice(0, 8)}`, first_name: 'N\u0000', email_addresses: [] },
      });
      const id = `msg_${randomUUID().replace(/-/g, '')}`;
      const at = new Date();
      const res = await app.request('POST', '/api/webhooks/clerk', {
        headers: {
          'content-type': 'application/json',
          'svix-id': id,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': new Webhook(WEBHOOK_SECRET).sign(id, at, body),
        },
        body,
      });
      expectError(res, 400, 'validation_failed', 'webhook with NUL');
    });

    it('accepts only ISO 8601 date-times with a time zone', async () => {
      for (const expires_at of [
        '20300101T000000Z',
        '2030-01-01T00:00:00',
        '2030-02-31T00:00:00Z',
        '2030-01-01 00:00Z',
        'soon',
      ]) {
        const res = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
          headers: session(),
          body: { name: 'dated', expires_at },
        });
        expectError(res, 400, 'validation_failed', expires_at);
      }
      const ok = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
        headers: session(),
        body: { name: 'dated', expires_at: '2030-01-01T00:00:00+02:00' },
      });
      assert.equal(ok.status, 201, ok.text);
      const usage = await app.request('GET', '/api/v1/usage?from=20300101T000000Z', {
        headers: { 'x-api-key': apiKey },
      });
      expectError(usage, 400, 'validation_failed', 'usage from');
      const lastWeek = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
      const usageOk = await app.request('GET', `/api/v1/usage?from=${lastWeek}`, { headers: { 'x-api-key': apiKey } });
      assert.equal(usageOk.status, 200, usageOk.text);
    });

    it('refuses JSON nested deeper than 32 levels (64 on chat) while parsing', async () => {
      expectError(
        await app.request('POST', '/api/tenants', { headers: session(), body: { name: 'deep', x: nested(32) } }),
        400,
        'validation_failed',
        'depth 33',
      );
      expectError(
        await app.request('POST', '/api/tenants', { headers: session(), body: nested(3000) }),
        400,
        'validation_failed',
        'depth 3000',
      );
      const chat = (depth: number) =>
        app.request('POST', '/api/v1/chat/completions', {
          headers: { 'x-api-key': apiKey },
          body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi', extra: nested(depth) }] },
        });
      const deepChat = await chat(70);
      assert.equal(deepChat.status, 400, deepChat.text);
      assert.equal(deepChat.body.error.code, 'validation_failed');
      assert.match(deepChat.body.error.message, /deeper than 64/);
      const allowed = await chat(40);
      assert.doesNotMatch(allowed.text, /deeper than/);
      assert.ok(allowed.status < 500, allowed.text);
    });

    it('refuses numbers out of range as 400', async () => {
      for (const raw of ['{"name":"n","rate_limit_per_minute":1e400}', '{"name":"n","token_quota":1e30}']) {
        const res = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, { headers: session(), body: raw });
        expectError(res, 400, 'validation_failed', raw);
      }
    });

    it('limits bodies to 1 MiB, 10 MiB on chat completions, with 413 payload_too_large', async () => {
      const tooBig = await postAnnounced(app.baseUrl, '/api/tenants', session(), 1024 * 1024 + 1);
      assert.equal(tooBig.status, 413);
      assert.equal(tooBig.body.code, 'payload_too_large');
      const chatBody = (size: number) =>
        JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'c'.repeat(size) }] });
      const twoMiB = await app.request('POST', '/api/v1/chat/completions', {
        headers: { 'x-api-key': apiKey },
        body: chatBody(2 * 1024 * 1024),
      });
      assert.notEqual(twoMiB.status, 413, twoMiB.text.slice(0, 200));
      const elevenMiB = await postAnnounced(
        app.baseUrl,
        '/api/v1/chat/completions',
        { 'x-api-key': apiKey },
        11 * 1024 * 1024,
      );
      assert.equal(elevenMiB.status, 413);
      assert.equal(elevenMiB.body.error.code, 'payload_too_large');
    });
  });

  describe('headers', () => {
    it('sends nosniff on every response and no-store on the ones carrying secrets', async () => {
      for (const res of [
        await app.request('GET', '/api/health'),
        await app.request('GET', '/api/users/me'),
        await app.request('GET', '/api/nope'),
        await app.request('GET', '/api/users/me', { headers: session() }),
        await app.request('GET', '/api/%E0%A4%A'),
      ]) {
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        // A JSON answer is never a document: nothing may load or frame it.
        assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
      }
      const me = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(me.headers.get('cache-control'), 'no-store');
      const refresh = await app.request('POST', '/api/users/me/openrouter-api-key/refresh', { headers: session() });
      assert.equal(refresh.status, 200, refresh.text);
      assert.equal(refresh.headers.get('cache-control'), 'no-store');
      const glm = await app.request('PUT', '/api/users/me/provider-keys/glm', {
        headers: session(),
        body: { api_key: 'glm-secret-123456' },
      });
      assert.equal(glm.headers.get('cache-control'), 'no-store');
      const created = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
        headers: session(),
        body: { name: 'no-store' },
      });
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const rotated = await app.request('POST', `/api/tenants/${tenantId}/api-keys/${created.body.id}/rotate`, {
        headers: session(),
        body: {},
      });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal(rotated.headers.get('cache-control'), 'no-store');
      const list = await app.request('GET', `/api/tenants/${tenantId}/api-keys`, { headers: session() });
      assert.equal(list.headers.get('cache-control'), null);
    });

    it('answers CORS preflights for the configured origins only', async () => {
      const preflight = await fetch(`${app.baseUrl}/api/users/me`, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, x-tenant-id',
        },
      });
      assert.ok(preflight.status === 204 || preflight.status === 200, String(preflight.status));
      assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'x-api-key', 'x-tenant-id', 'x-request-id']) assert.ok(allowed.includes(h), h);
      const me = await app.request('GET', '/api/users/me', { headers: { ...session(), origin: ORIGIN } });
      assert.equal(me.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(me.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/i);
      const refused = await fetch(`${app.baseUrl}/api/users/me`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'GET' },
      });
      assert.equal(refused.headers.get('access-control-allow-origin'), null);
    });

    it('still serves Swagger UI under the security headers', async () => {
      const page = await app.request('GET', '/api/docs');
      assert.equal(page.status, 200);
      assert.match(page.text, /swagger-ui/i);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      const init = await app.request('GET', '/api/docs/swagger-ui-init.js');
      assert.equal(init.status, 200);
      const doc = await app.request('GET', '/api/docs-json');
      assert.equal(doc.status, 200);
      assert.ok(doc.body.paths['/api/users/me']);
    });

    it("answers an unknown route under /api/v1 in OpenAI's shape, elsewhere in the contract's", async () => {
      const v1 = await app.request('GET', '/api/v1/nope');
      assert.equal(v1.status, 404);
      assert.equal(v1.body.error.type, 'not_found_error');
      assert.equal(v1.body.error.code, 'not_found');
      const other = await app.request('GET', '/api/nope');
      assert.equal(other.status, 404);
      assert.equal(other.body.code, 'not_found');
    });
  });

  describe('failed authentications per client address', () => {
    it('gives 429 rate_limited past AUTH_FAILURES_PER_MINUTE, per X-Forwarded-For address behind a trusted proxy', async () => {
      const attacker = fromAddress();
      const office = fromAddress();
      // Failures from an office's address put it over the limit: its failing credentials get 429 from then on,
      // while valid ones, even never seen from there, are never refused by the limit.
      for (let i = 0; i < 4; i++)
        await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': 'umk_nope' } });
      expectError(
        await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': 'umk_nope' } }),
        429,
        'rate_limited',
        'a failing credential from the blocked address',
      );
      const colleague = await app.request('GET', '/api/users/me', { headers: { ...office, ...session() } });
      assert.equal(colleague.status, 200, `a valid session from the blocked address: ${colleague.text}`);
      const stillIn = await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': apiKey } });
      assert.equal(stillIn.status, 200, `a valid key from the blocked address: ${stillIn.text}`);
      for (let i = 0; i < 3; i++) {
        expectError(
          await app.request('GET', '/api/v1/me', { headers: { ...attacker, 'x-api-key': 'umk_nope' } }),
          401,
          'invalid_api_key',
          `failure ${i + 1}`,
        );
      }
      const blocked = await app.request('GET', '/api/users/me', {
        headers: { ...attacker, authorization: 'Bearer x' },
      });
      expectError(blocked, 429, 'rate_limited', 'fourth failure');
      assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
      // Another address, and valid credentials, are not affected; successes are never counted.
      for (let i = 0; i < 6; i++) {
        const ok = await app.request('GET', '/api/v1/me', { headers: fromAddress({ 'x-api-key': apiKey }) });
        assert.equal(ok.status, 200, ok.text);
      }
      const neighbour = fromAddress();
      for (let i = 0; i < 5; i++) {
        const ok = await app.request('GET', '/api/users/me', { headers: { ...neighbour, ...session() } });
        assert.equal(ok.status, 200, ok.text);
      }
    });
  });
});

describe('the HTTP edge without TRUST_PROXY or CORS_ORIGINS', () => {
  let app: TestApp;

  before(async () => {
    app = await startApp({ inProcess: true, env: { AUTH_FAILURES_PER_MINUTE: '3' } });
  });
  after(async () => {
    await app?.stop();
  });

  it('sends no CORS headers', async () => {
    const preflight = await fetch(`${app.baseUrl}/api/users/me`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const res = await app.request('GET', '/api/health', { headers: { origin: ORIGIN } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('ignores X-Forwarded-For: every failure counts against the peer address', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await app.request('GET', '/api/users/me', {
        headers: { 'x-forwarded-for': `10.0.0.${i}`, authorization: 'Bearer not-a-jwt' },
      });
      expectError(res, 401, 'invalid_token', `failure ${i + 1}`);
    }
    const res = await app.request('GET', '/api/users/me', {
      headers: { 'x-forwarded-for': '10.9.9.9', authorization: 'Bearer not-a-jwt' },
    });
    expectError(res, 429, 'rate_limited', 'a new X-Forwarded-For does not help');
  });
});
