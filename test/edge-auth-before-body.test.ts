/**
 * The real application, built in this process (createApp), so that Fastify's hooks can be observed: a
 * protected route refuses missing or bad credentials before its body is read or parsed, and route auth
 * metadata is read once per handler, not per request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Reflector } from '@nestjs/core';
import { RouteAuthPolicies } from '#libs/auth';
import { AppConfig } from '#libs/config';
import { DatabaseEndpoint, openDatabaseEndpoint } from '#libs/database';
import { createApp } from '../apps/api/src/bootstrap/create-app';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from './support/app';
import { publicKeyPem } from './support/clerk-tokens';
import { fixedSession, newClerkUser } from './support/users';

/** JSON text nested `depth` arrays deep (built as text: JSON.stringify itself would overflow). */
function nested(depth: number): string {
  return `${'['.repeat(depth)}"leaf"${']'.repeat(depth)}`;
}

describe('authentication before the body (in process)', () => {
  let database: TestDatabase;
  let endpoint: DatabaseEndpoint;
  let app: NestFastifyApplication;
  let baseUrl: string;
  /** Bodies Fastify started to read and parse (preParsing runs right before the content-type parser). */
  let parses = 0;
  /** Every route Fastify registered (Nest's controllers, Swagger UI's files). */
  const routes: [string, string][] = [];

  before(async () => {
    database = await createTestDatabase();
    // The app's modules read process.env, as the server process does.
    Object.assign(process.env, {
      ...database.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      CLERK_JWT_KEY: publicKeyPem,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      OPENROUTER_RECONCILE_INTERVAL_MINUTES: '0',
      AUTH_FAILURES_PER_MINUTE: '100000',
    });
    const config = new AppConfig();
    endpoint = await openDatabaseEndpoint({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.databasePoolSize,
    });
    app = await createApp(config, endpoint);
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) routes.push([method, route.url]);
      });
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('preParsing', (_req, _reply, payload, done) => {
        parses++;
        done(null, payload);
      });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await app?.close();
    await endpoint?.close();
    await database?.drop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('refuses a large deep body without credentials, or with bad ones, before reading it', async () => {
    const deep = `{"name":"x","deep":${nested(100_000)}}`;
    assert.ok(deep.length > 190_000);
    const before = parses;
    const cases: [string, Record<string, string>, number, string][] = [
      ['/api/tenants', {}, 401, 'unauthenticated'],
      ['/api/tenants', { authorization: 'Bearer not-a-token' }, 401, 'invalid_token'],
      ['/api/tenants', { authorization: 'Basic abc' }, 401, 'unauthenticated'],
      ['/api/v1/chat/completions', {}, 401, 'unauthenticated'],
      ['/api/v1/chat/completions', { 'x-api-key': 'umk_malformed' }, 401, 'invalid_api_key'],
      ['/api/admin/openrouter/reconcile', {}, 401, 'unauthenticated'],
    ];
    for (const [path, headers, status, code] of cases) {
      const res = await post(path, deep, headers);
      const body = (await res.json()) as { code?: string; error?: { code?: string } };
      assert.equal(res.status, status, `${path} ${JSON.stringify(headers)}`);
      assert.equal(body.code ?? body.error?.code, code, path);
    }
    assert.equal(parses - before, 0, 'no body was parsed');
  });

  it('parses the body once credentials are valid (and then refuses the depth as 400)', async () => {
    const session = fixedSession(newClerkUser());
    const before = parses;
    const res = await post('/api/tenants', `{"name":"x","deep":${nested(40)}}`, session());
    assert.equal(res.status, 400, await res.clone().text());
    assert.equal(((await res.json()) as { code: string }).code, 'validation_failed');
    assert.equal(parses - before, 1);
    const ok = await post('/api/tenants', JSON.stringify({ name: 'Parsed' }), session());
    assert.equal(ok.status, 201);
  });

  it('refuses a role it lacks (403) before parsing too', async () => {
    const session = fixedSession(newClerkUser());
    const before = parses;
    const res = await post('/api/admin/openrouter/reconcile', JSON.stringify({ dry_run: true }), session());
    assert.equal(res.status, 403);
    assert.equal(parses - before, 0);
  });

  it('knows the auth policy of every API route at the edge', () => {
    const policies = app.get(RouteAuthPolicies);
    const api = routes.filter(
      ([method, url]) => url.startsWith('/api/') && !url.startsWith('/api/docs') && method !== 'HEAD',
    );
    assert.ok(api.length > 30, String(api.length));
    const missing = api.filter(([method, url]) => !policies.forRoute(method, url));
    assert.deepEqual(missing, []);
    // Liveness is a plain Fastify route (no Nest handler); readiness is Nest's, and public.
    assert.equal(policies.forRoute('GET', '/api/health'), undefined);
    assert.equal(policies.forRoute('GET', '/api/health/ready')?.isPublic, true);
    assert.equal(policies.forRoute('POST', '/api/webhooks/clerk')?.isPublic, true);
    assert.deepEqual(policies.forRoute('POST', '/api/v1/chat/completions')?.kinds, ['api_key', 'api_key_bearer']);
    assert.equal(policies.forRoute('GET', '/api/users/me')?.isPublic, false);
  });

  it('reads auth metadata once per handler, not per request', async () => {
    const session = fixedSession(newClerkUser());
    const warm = await fetch(`${baseUrl}/api/users/me`, { headers: session() });
    assert.equal(warm.status, 200);
    const original = Reflector.prototype.getAllAndOverride;
    let lookups = 0;
    Reflector.prototype.getAllAndOverride = function (this: Reflector, key: unknown, targets: never) {
      if (typeof key === 'string' && key.startsWith('auth:')) lookups++;
      return original.call(this, key as string, targets);
    } as typeof original;
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${baseUrl}/api/users/me`, { headers: session() });
        assert.equal(res.status, 200);
      }
    } finally {
      Reflector.prototype.getAllAndOverride = original;
    }
    assert.equal(lookups, 0);
  });
});
