/**
 * Liveness probes are answered by the HTTP server itself, the other requests for /api/health by a plain Fastify
 * route (Nest maps no route for it): both alike. Readiness stays a Nest route. Nest's start-up narration is
 * written at debug only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from './support/app';

const mapped = (logs: string) =>
  logs
    .split('\n')
    .filter((l) => l.includes('"RouterExplorer"'))
    .map((l) => JSON.parse(l) as { level: string; msg: string });

describe('liveness and start-up logs', () => {
  let debug: TestApp;
  let info: TestApp;

  before(async () => {
    [debug, info] = await Promise.all([startApp({ env: { LOG_LEVEL: 'debug' } }), startApp()]);
  });
  after(async () => {
    await Promise.all([debug?.stop(), info?.stop()]);
  });

  it('answers GET /api/health with no Nest route behind it, readiness through Nest', async () => {
    const live = await debug.request('GET', '/api/health', { headers: { 'x-request-id': 'probe-1' } });
    assert.equal(live.status, 200);
    assert.equal(live.text, '{"status":"ok"}');
    assert.match(live.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(live.headers.get('x-request-id'), 'probe-1');
    assert.equal((await debug.request('GET', '/api/health/ready')).status, 200);
    const routes = mapped(debug.logs()).map((l) => l.msg);
    assert.ok(
      routes.some((m) => m.includes('{/api/health/ready, GET}')),
      routes.join('\n'),
    );
    assert.ok(!routes.some((m) => m.includes('{/api/health, GET}')), 'Nest maps no liveness route');
  });

  it('answers a probe (server) and the other liveness requests (Fastify) alike: body, headers, request id', async () => {
    const base = info.baseUrl;
    const answers = [
      await fetch(`${base}/api/health`, { headers: { 'x-request-id': 'probe-2' } }), // a probe
      await fetch(`${base}/api/health?from=test`, { headers: { 'x-request-id': 'probe-2' } }), // Fastify's route
      await fetch(`${base}/api/health`, { headers: { 'x-request-id': 'probe-2', origin: 'https://app.example.test' } }),
    ];
    const seen = await Promise.all(
      answers.map(async (res) => ({
        status: res.status,
        body: await res.text(),
        type: res.headers.get('content-type'),
        id: res.headers.get('x-request-id'),
        nosniff: res.headers.get('x-content-type-options'),
        csp: res.headers.get('content-security-policy'),
        frames: res.headers.get('x-frame-options'),
      })),
    );
    for (const answer of seen) assert.deepEqual(answer, seen[0]);
    assert.deepEqual(seen[0], {
      status: 200,
      body: '{"status":"ok"}',
      type: 'application/json; charset=utf-8',
      id: 'probe-2',
      nosniff: 'nosniff',
      csp: "default-src 'none'; frame-ancestors 'none'",
      frames: 'DENY',
    });
    const generated = await fetch(`${base}/api/health`, { headers: { 'x-request-id': 'not valid ${}' } });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an invalid id is replaced');
    const head = await fetch(`${base}/api/health`, { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('content-length'), await head.text()], [200, '15', '']);
  });

  it('documents liveness in the OpenAPI document', async () => {
    const doc = (await info.request('GET', '/api/docs-json')).body;
    assert.equal(doc.paths['/api/health'].get.summary, 'Liveness');
    assert.ok(doc.paths['/api/health/ready'].get);
  });

  it("keeps Nest's route mapping at debug: none of it at the default level", () => {
    assert.ok(mapped(debug.logs()).length > 10);
    assert.ok(mapped(debug.logs()).every((l) => l.level === 'debug'));
    assert.deepEqual(mapped(info.logs()), []);
    assert.ok(!info.logs().includes('"InstanceLoader"'));
  });
});
