/**
 * Liveness is a plain Fastify route, answered without Nest's pipeline (Nest maps no route for it);
 * readiness stays a Nest route. Nest's start-up narration is written at debug only.
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
