/**
 * No credential is echoed or logged: request ids shaped like credentials (or too long, or of other characters)
 * are replaced; refusals made before routing (414 for a path parameter or a URL too long, 431, a URL that does
 * not decode) carry a catalogue code and a request id and never echo the URL; unknown routes and models do not
 * quote a key pasted into the path; and none of it reaches the logs. In process, on whichever database the
 * harness gives.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { redisAvailable, startApp, type AppResponse, type TestApp } from './support/app';
import { signClerkToken } from './support/clerk-tokens';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The request id an error answer names: `request_id` in the platform's shape, the header in OpenAI's. */
function bodyRequestId(res: AppResponse): string | undefined {
  return res.body?.request_id;
}

/** Raw HTTP, for requests fetch would refuse to send (a head over Node's limit). */
function rawRequest(port: number, head: string): Promise<{ status: number; headers: string; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (err) => (text ? undefined : reject(err)));
    socket.on('close', () => {
      const [headers, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1]),
        headers,
        body: body ? JSON.parse(body) : null,
      });
    });
  });
}

describe('no credential echoed or logged (in process)', () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;
  let session: () => Record<string, string>;
  let tenantId: string;
  /** A real tenant key: what a careless client pastes into a request id or a URL. */
  let apiKey: string;
  let sessionToken: string;

  before(async () => {
    await fake.start();
    app = await startApp({ inProcess: true, openRouter: fake, redis: redisAvailable() });
    const user = newClerkUser();
    session = fixedSession(user);
    sessionToken = session().authorization.slice('Bearer '.length);
    const tenant = await app.request('POST', '/api/tenants', { headers: session(), body: { name: 'Echo' } });
    assert.equal(tenant.status, 201, tenant.text);
    tenantId = tenant.body.id;
    const key = await app.request('POST', `/api/tenants/${tenantId}/api-keys`, {
      headers: session(),
      body: { name: 'echo' },
    });
    assert.equal(key.status, 201, key.text);
    apiKey = key.body.key;
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  /** Waits for the log lines of the request ids, then checks that no secret is anywhere in the logs. */
  async function assertLogsClean(requestIds: string | string[], ...secrets: string[]): Promise<string> {
    let logs = '';
    for (const id of [requestIds].flat()) {
      logs = await app.logsMatching(new RegExp(id));
      assert.match(logs, new RegExp(id), 'the request was logged under its id');
    }
    for (const secret of [apiKey, sessionToken, ...secrets])
      assert.ok(!logs.includes(secret), `a secret in the logs: ${secret.slice(0, 12)}…`);
    return logs;
  }

  describe('request ids', () => {
    it('echoes a short id of plain characters, in the header and the error body', async () => {
      const res = await app.request('GET', '/api/users/me', { headers: { 'x-request-id': 'client-trace:42.a_b' } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-request-id'), 'client-trace:42.a_b');
      assert.equal(bodyRequestId(res), 'client-trace:42.a_b');
    });

    it('replaces ids shaped like credentials, longer than 64 characters or of other characters, and logs none', async () => {
      const openRouterKey = `sk-or-v1-${'ab12'.repeat(16)}`;
      const refused: [string, string][] = [
        ['tenant key', apiKey],
        ['short umk_', 'umk_notreallyakey'],
        ['OpenRouter key', openRouterKey],
        ['sk- key', 'sk-proj-abcdefgh'],
        ['JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.c2ln'],
        ['65 characters', 'r'.repeat(65)],
        ['a space', 'trace id'],
        ['a slash', 'trace/id'],
      ];
      const given: string[] = [];
      for (const [what, id] of refused) {
        const res = await app.request('GET', '/api/v1/me', { headers: { 'x-request-id': id, 'x-api-key': apiKey } });
        assert.equal(res.status, 200, `${what}: ${res.text}`);
        given.push(res.headers.get('x-request-id') ?? '');
        assert.match(given.at(-1)!, UUID, `${what}: a new id`);
        assert.ok(!res.text.includes(id), `${what}: not in the body`);
      }
      await assertLogsClean(given, ...refused.map(([, id]) => id));
      const ok = 'q'.repeat(64);
      const res = await app.request('GET', '/api/v1/me', { headers: { 'x-request-id': ok, 'x-api-key': apiKey } });
      assert.equal(res.headers.get('x-request-id'), ok, '64 characters are fine');
    });
  });

  describe('refusals before routing', () => {
    it('answers a path parameter over the limit 414 uri_too_long with a request id, without the URL, and logs no credential', async () => {
      const path = `/api/tenants/${apiKey}${'x'.repeat(10_000)}/api-keys`;
      const res = await app.request('GET', path, { headers: { ...session(), 'x-request-id': 'long-param-1' } });
      assert.equal(res.status, 414, res.text.slice(0, 300));
      assert.equal(res.body.code, 'uri_too_long');
      assert.equal(res.body.statusCode, 414);
      assert.equal(res.body.request_id, 'long-param-1');
      assert.equal(res.headers.get('x-request-id'), 'long-param-1');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.text.length < 300, `a short body, not the URL: ${res.text.length} bytes`);
      assert.ok(!res.text.includes(apiKey.slice(4, 20)) && !res.text.includes('xxxxxxxx'), res.text);
      const logs = await assertLogsClean('long-param-1');
      const line = logs.split('\n').find((l) => l.includes('long-param-1'))!;
      assert.ok(line.length < 2048, `the logged URL is cut: ${line.length}`);
      assert.ok(!line.includes(apiKey.slice(4, 24)), line);
    });

    it("answers it in the route's shape under /api/v1 too", async () => {
      const res = await app.request('GET', `/api/v1/users/${apiKey}${'y'.repeat(200)}`, {
        headers: { 'x-api-key': apiKey },
      });
      assert.equal(res.status, 414, res.text);
      assert.equal(res.body.code, 'uri_too_long', res.text);
      assert.match(res.body.request_id, UUID);
      assert.equal(res.headers.get('x-request-id'), res.body.request_id);
      assert.ok(!res.text.includes(apiKey) && !res.text.includes('yyyy'), res.text);
    });

    it('answers a URL over 8 KiB 414 uri_too_long, in the app or before any request exists, without echoing it', async () => {
      // 12 KB reaches the app (under Node's 16 KiB head limit); 20 KB is refused by the HTTP parser.
      for (const length of [12_000, 20_000]) {
        const head = `GET /api/tenants?q=${apiKey}${'z'.repeat(length)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
        const res = await rawRequest(app.port, head);
        assert.equal(res.status, 414, res.headers);
        assert.equal(res.body.code, 'uri_too_long');
        assert.match(res.body.request_id, UUID);
        assert.match(res.headers, new RegExp(`\r\nX-Request-Id: ${res.body.request_id}\r\n`, 'i'));
        assert.ok(!JSON.stringify(res).includes(apiKey) && !JSON.stringify(res).includes('zzzz'));
        await assertLogsClean(res.body.request_id);
      }
    });

    it('answers headers over the limit 431 header_fields_too_large with a request id, logging none of them', async () => {
      const head =
        `GET /api/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sessionToken}\r\n` +
        `X-API-Key: ${apiKey}\r\nX-Padding: ${'p'.repeat(20_000)}\r\nConnection: close\r\n\r\n`;
      const res = await rawRequest(app.port, head);
      assert.equal(res.status, 431);
      assert.equal(res.body.code, 'header_fields_too_large');
      assert.equal(res.body.statusCode, 431);
      assert.match(res.body.request_id, UUID);
      assert.ok(!JSON.stringify(res).includes(apiKey) && !JSON.stringify(res).includes(sessionToken));
      await assertLogsClean(res.body.request_id);
    });

    it('answers a URL that does not decode 400 bad_request with a request id', async () => {
      const res = await app.request('GET', `/api/tenants/%E0%A4%A/${apiKey}`, { headers: session() });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, 'bad_request');
      assert.equal(res.body.request_id, res.headers.get('x-request-id'));
      assert.ok(!res.text.includes(apiKey), res.text);
    });
  });

  describe('unknown routes and models', () => {
    it('does not quote a key pasted into an unknown path, in the body or the logs', async () => {
      const token = signClerkToken({ ...newClerkUser(), sid: 'sess_pasted' });
      const cases: [string, string][] = [
        [`/api/v1/${apiKey}`, apiKey],
        [`/api/${apiKey}/things`, apiKey],
        [`/api/nope/${token}`, token],
        [`/api/v1/nope?key=${apiKey}`, apiKey],
      ];
      const ids: string[] = [];
      for (const [path, secret] of cases) {
        const res = await app.request('GET', path, { headers: { 'x-api-key': apiKey } });
        assert.equal(res.status, 404, `${path}: ${res.text}`);
        assert.ok((res.body.code ?? res.body.error?.code) === 'not_found', res.text);
        assert.ok(!res.text.includes(secret), `${path} echoed: ${res.text}`);
        ids.push(res.headers.get('x-request-id')!);
      }
      await assertLogsClean(ids, token);
    });

    it('does not quote a key given as a model id', async () => {
      const ids: string[] = [];
      for (const path of [`/api/v1/models/${apiKey}`, `/api/v1/models/openai/${apiKey}`]) {
        const res = await app.request('GET', path, { headers: { authorization: `Bearer ${apiKey}` } });
        assert.equal(res.status, 404, res.text);
        assert.equal(res.body.error.code, 'model_not_found');
        assert.ok(!res.text.includes(apiKey), res.text);
        assert.match(res.body.error.message, /umk_…/, 'the masked form says what was asked for');
        ids.push(res.headers.get('x-request-id')!);
      }
      await assertLogsClean(ids);
    });
  });
});
