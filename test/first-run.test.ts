/**
 * A first run as a newcomer meets it: a start-up summary naming the address, the docs, the database, Redis and
 * every integration left unconfigured with the variable that enables it; `GET /` and `GET /api` pointing to
 * the docs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from './support/app';

describe('first run', () => {
  let app: TestApp;

  before(async () => {
    // Nothing configured but the database: no Clerk key, no OpenRouter, no webhook secret, no metrics token.
    app = await startApp({ env: { CLERK_JWT_KEY: '' } });
  });
  after(async () => {
    await app?.stop();
  });

  it('logs one start-up summary naming the address, the docs and what is not configured', () => {
    const logs = app.logs();
    const summaries = logs.split('\n').filter((l) => l.includes('Listening on http://'));
    assert.equal(summaries.length, 1, logs);
    const summary = summaries[0];
    assert.ok(summary.includes(`http://127.0.0.1:${app.port}/api/docs`), 'the docs URL');
    assert.match(summary, /Database: +(embedded PostgreSQL \(PGlite\) under |PostgreSQL at [^\s:]+:\d+)/);
    assert.match(summary, /Redis: +not configured/);
    for (const variable of [
      'CLERK_JWT_KEY or CLERK_SECRET_KEY',
      'OPENROUTER_PROVISIONING_API_KEY',
      'CLERK_WEBHOOK_SIGNING_SECRET',
      'METRICS_TOKEN',
      'PLATFORM_ADMIN_USER_IDS',
    ]) {
      assert.ok(summary.includes(`set ${variable}`), `names ${variable}`);
    }
    const dbUrl = app.env.DATABASE_URL;
    const password = dbUrl ? new URL(dbUrl).password : '';
    if (password) assert.ok(!summary.includes(password), 'never the database password');
  });

  it('GET / and GET /api answer links to the docs, publicly', async () => {
    for (const path of ['/', '/api']) {
      const res = await app.request('GET', path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.equal(res.body.docs, '/api/docs');
      assert.equal(res.body.openapi, '/api/docs-json');
      assert.match(res.headers.get('x-request-id') ?? '', /.+/);
    }
    const docs = await app.request('GET', '/api/docs-json');
    assert.equal(docs.status, 200);
  });

  it('redirects a browser from / and /api to Swagger UI', async () => {
    for (const path of ['/', '/api']) {
      const res = await fetch(`${app.baseUrl}${path}`, {
        headers: { accept: 'text/html,application/xhtml+xml' },
        redirect: 'manual',
      });
      assert.equal(res.status, 302, path);
      assert.equal(res.headers.get('location'), '/api/docs');
    }
  });

  it('documents tags sorted with descriptions, usage under gateway, and both key schemes on OpenAI routes', async () => {
    const doc = (await app.request('GET', '/api/docs-json')).body;
    const names = doc.tags.map((t: { name: string }) => t.name);
    assert.deepEqual(
      names,
      [...names].sort((a: string, b: string) => a.localeCompare(b)),
    );
    for (const tag of doc.tags) assert.ok(tag.description, `tag ${tag.name} is described`);
    assert.deepEqual(doc.paths['/api/v1/usage'].get.tags, ['gateway']);
    const chat = doc.paths['/api/v1/chat/completions'].post;
    assert.deepEqual(chat.tags, ['gateway']);
    assert.deepEqual(chat.security, [{ api_key: [] }, { api_key_bearer: [] }]);
    assert.equal(doc.components.securitySchemes.api_key_bearer.scheme, 'bearer');
    assert.deepEqual(doc.paths['/api/v1/me'].get.security, [{ api_key: [] }], 'Bearer keys only on OpenAI routes');
  });
});
