/** Self-tests of the harness: the fake OpenRouter, the Clerk tokens and the app launcher, without the real app. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyToken } from '@clerk/backend';
import { Client } from 'pg';
import { createTestDatabase, postgresAvailable, startApp, startCluster } from './app';
import { expiredToken, otherKeySignedToken, publicKeyPem, signClerkToken, TEST_AUTHORIZED_PARTY } from './clerk-tokens';
import { DEFAULT_PROVISIONING_KEY, FakeOpenRouter } from './fake-openrouter';
import { collectSse, sseData } from './sse';

const PROV = { authorization: `Bearer ${DEFAULT_PROVISIONING_KEY}`, 'content-type': 'application/json' };

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
}

async function createKey(fake: FakeOpenRouter, name = 'user-1', limit: number | null = 15): Promise<any> {
  const res = await fetch(`${fake.baseUrl}/keys`, {
    method: 'POST',
    headers: PROV,
    body: JSON.stringify({ name, limit }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

function chat(fake: FakeOpenRouter, key: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: bearer(key),
    body: JSON.stringify({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello there' }],
      ...body,
    }),
  });
}

describe('FakeOpenRouter', () => {
  const fake = new FakeOpenRouter({ pageSize: 2 });
  before(() => fake.start());
  after(() => fake.stop());

  it('creates a key with the management API, in OpenRouter shape', async () => {
    const created = await createKey(fake, 'alice', 15);
    assert.match(created.key, /^sk-or-v1-[0-9a-f]{64}$/);
    assert.match(created.data.hash, /^[0-9a-f]{64}$/);
    assert.match(created.data.label, /^sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{4}$/);
    assert.equal(created.data.name, 'alice');
    assert.equal(created.data.limit, 15);
    assert.equal(created.data.disabled, false);
    assert.equal(created.data.usage, 0);
    assert.equal(fake.createdCount, 1);
    assert.ok(fake.liveKeys().some((k) => k.key === created.key));
    const logged = fake.requests.at(-1);
    assert.equal(logged?.route, 'keys.create');
    assert.equal(logged?.status, 201);
    assert.equal(logged?.auth, 'sk-or-v1-…test');
  });

  it('answers chat completions for a live key, with usage', async () => {
    const { key } = await createKey(fake);
    fake.setUsage({ prompt_tokens: 7, completion_tokens: 5, cost: 0.002 });
    const res = await chat(fake, key);
    assert.equal(res.status, 200);
    const body: any = await res.json();
    assert.equal(body.choices[0].message.content, 'hello there');
    assert.equal(body.model, 'openai/gpt-4o-mini');
    assert.deepEqual(
      {
        p: body.usage.prompt_tokens,
        c: body.usage.completion_tokens,
        t: body.usage.total_tokens,
        cost: body.usage.cost,
      },
      { p: 7, c: 5, t: 12, cost: 0.002 },
    );
    assert.equal(fake.chatCallsFor(key), 1);
    assert.equal(fake.keys.find((k) => k.key === key)?.usage, 0.002);
    fake.setUsage({ prompt_tokens: 10, completion_tokens: 20, cost: 0.0001 });
  });

  it('answers 401 "User not found." once a key is revoked', async () => {
    const { key } = await createKey(fake);
    fake.revokeKey(key);
    const res = await chat(fake, key);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { code: 401, message: 'User not found.' } });
    assert.equal(fake.chatCallsFor(key), 1);
  });

  it('refuses management calls with a wrong provisioning key, and runtime keys on management routes', async () => {
    const { key } = await createKey(fake);
    for (const auth of ['Bearer sk-or-v1-wrong', `Bearer ${key}`]) {
      const res = await fetch(`${fake.baseUrl}/keys`, {
        method: 'POST',
        headers: { authorization: auth },
        body: '{"name":"x"}',
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as any).error.code, 401);
    }
    const noAuth = await fetch(`${fake.baseUrl}/keys`);
    assert.equal(noAuth.status, 401);
  });

  it('lists, reads, updates and deletes keys', async () => {
    const seeded = fake.seedKey({ name: 'other-service', limit: 1 });
    const pages: any[][] = [];
    for (let offset = 0; ; offset += fake.pageSize) {
      const res = await fetch(`${fake.baseUrl}/keys?offset=${offset}`, { headers: PROV });
      const page = ((await res.json()) as any).data;
      if (page.length === 0) break;
      assert.ok(page.length <= 2);
      pages.push(page);
    }
    const listed = pages.flat().map((k) => k.hash);
    assert.equal(listed[0], seeded.hash, 'newest first');
    assert.deepEqual(new Set(listed), new Set(fake.keys.filter((k) => !k.deleted).map((k) => k.hash)));

    const patched = await fetch(`${fake.baseUrl}/keys/${seeded.hash}`, {
      method: 'PATCH',
      headers: PROV,
      body: JSON.stringify({ disabled: true, limit: 3 }),
    });
    assert.equal(patched.status, 200);
    const patchedData = ((await patched.json()) as any).data;
    assert.deepEqual([patchedData.disabled, patchedData.limit], [true, 3]);
    const read = await fetch(`${fake.baseUrl}/keys/${seeded.hash}`, { headers: PROV });
    assert.deepEqual(((await read.json()) as any).data, patchedData);
    assert.equal((await chat(fake, seeded.key)).status, 401, 'a disabled key cannot chat');
    const visible = ((await (await fetch(`${fake.baseUrl}/keys`, { headers: PROV })).json()) as any).data;
    assert.ok(!visible.some((k: any) => k.hash === seeded.hash), 'disabled keys are hidden by default');
    const all = ((await (await fetch(`${fake.baseUrl}/keys?include_disabled=true`, { headers: PROV })).json()) as any)
      .data;
    assert.equal(all[0].hash, seeded.hash);
    assert.equal(all[0].disabled, true);
    assert.equal(all[0].limit, 3);

    const deleted = await fetch(`${fake.baseUrl}/keys/${seeded.hash}`, { method: 'DELETE', headers: PROV });
    assert.deepEqual([deleted.status, await deleted.json()], [200, { deleted: true }]);
    assert.equal(fake.deletedCount, 1);
    assert.equal((await fetch(`${fake.baseUrl}/keys/${seeded.hash}`, { headers: PROV })).status, 404);
    assert.equal((await fetch(`${fake.baseUrl}/keys/${seeded.hash}`, { method: 'DELETE', headers: PROV })).status, 404);
  });

  it('streams chunks, a usage chunk and [DONE]', async () => {
    const { key } = await createKey(fake);
    const res = await chat(fake, key, { stream: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const { chunks, done } = await collectSse(res);
    assert.ok(done);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'hello there');
    assert.ok(chunks.filter((c) => c.choices[0]?.delta?.content).length >= 2, 'several content chunks');
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.deepEqual(
      [chunks.at(-1).usage.prompt_tokens, chunks.at(-1).usage.completion_tokens, chunks.at(-1).usage.cost],
      [10, 20, 0.0001],
    );
  });

  it('holds a stream after its first chunk until released', async () => {
    const { key } = await createKey(fake);
    const hold = fake.holdStreams();
    const res = await chat(fake, key, { stream: true });
    await hold.firstChunkSent;
    const events = sseData(res);
    const first = await events.next();
    assert.equal(JSON.parse(first.value as string).choices[0].delta.content, 'hell');
    hold.release();
    const rest: string[] = [];
    for await (const data of events) rest.push(data);
    assert.equal(rest.at(-1), '[DONE]');
  });

  it('records a client that aborts a stream', async () => {
    const { key } = await createKey(fake);
    const hold = fake.holdStreams();
    const controller = new AbortController();
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify({ messages: [{ role: 'user', content: 'abc' }], stream: true }),
      signal: controller.signal,
    });
    await hold.firstChunkSent;
    const aborted = once(fake, 'abort');
    const before = fake.aborts;
    controller.abort();
    await res.body?.cancel().catch(() => undefined);
    const [entry] = await aborted;
    assert.equal(entry.route, 'chat');
    assert.equal(fake.aborts, before + 1);
    hold.release();
  });

  it('injects a status once with failNext, persistently with setMode', async () => {
    const { key } = await createKey(fake);
    fake.failNext('chat', { status: 503 });
    assert.equal((await chat(fake, key)).status, 503);
    assert.equal((await chat(fake, key)).status, 200);

    fake.setMode('keys.create', { status: 500, body: { error: { code: 500, message: 'boom' } } });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${fake.baseUrl}/keys`, { method: 'POST', headers: PROV, body: '{"name":"x"}' });
      assert.deepEqual([res.status, await res.json()], [500, { error: { code: 500, message: 'boom' } }]);
    }
    fake.clearModes();
    await createKey(fake);
  });

  it('delays with {delayMs} and drops the socket with reset', async () => {
    fake.failNext('models', { delayMs: 200 });
    const started = Date.now();
    const res = await fetch(`${fake.baseUrl}/models`);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 190);
    assert.equal(((await res.json()) as any).data[0].id, 'openai/gpt-4o-mini');

    fake.failNext('models', 'reset');
    await assert.rejects(fetch(`${fake.baseUrl}/models`), TypeError);
    assert.equal(fake.modelsCalls, 1);
  });

  it('forces a chat status for one key', async () => {
    const { key } = await createKey(fake);
    fake.chatStatusForKey(key, 402);
    const res = await chat(fake, key);
    assert.deepEqual([res.status, await res.json()], [402, { error: { code: 402, message: 'Payment Required' } }]);
    fake.chatStatusForKey(key, null);
    assert.equal((await chat(fake, key)).status, 200);
  });

  it('refuses connections until resumed, on the same port', async () => {
    const baseUrl = fake.baseUrl;
    await fake.refuseConnections();
    await assert.rejects(fetch(`${baseUrl}/models`), (err: any) => err.cause?.code === 'ECONNREFUSED');
    await fake.resume();
    assert.equal(fake.baseUrl, baseUrl);
    assert.equal((await fetch(`${baseUrl}/models`)).status, 200);
  });
});

describe('Clerk tokens', () => {
  const options = { jwtKey: publicKeyPem, authorizedParties: [TEST_AUTHORIZED_PARTY] };

  it('are accepted by @clerk/backend verifyToken with the public key', async () => {
    const token = signClerkToken({
      sub: 'user_123',
      email: 'a@example.com',
      o: { id: 'org_1', rol: 'admin', slg: 'acme' },
    });
    const claims = await verifyToken(token, options);
    assert.equal(claims.sub, 'user_123');
    assert.match(String(claims.sid), /^sess_/);
    assert.equal(claims.azp, TEST_AUTHORIZED_PARTY);
    assert.deepEqual(claims.o, { id: 'org_1', rol: 'admin', slg: 'acme' });
    assert.equal((claims as Record<string, unknown>).email, 'a@example.com');
  });

  it('are rejected when expired, signed by another key, or for another party', async () => {
    await assert.rejects(verifyToken(expiredToken({ sub: 'user_1' }), options), /expired/i);
    await assert.rejects(verifyToken(otherKeySignedToken({ sub: 'user_1' }), options), /signature/i);
    await assert.rejects(
      verifyToken(signClerkToken({ sub: 'user_1', azp: 'https://evil.example' }), options),
      /azp|authorized/i,
    );
  });
});

describe('startApp', () => {
  let dir: string;
  let stubEntry: string;
  let crashEntry: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-stub-'));
    stubEntry = path.join(dir, 'stub.js');
    crashEntry = path.join(dir, 'crash.js');
    fs.writeFileSync(
      stubEntry,
      `const http = require('node:http');
       console.log('stub up on', process.env.PORT);
       http.createServer((req, res) => {
         res.setHeader('content-type', 'application/json');
         if (req.url === '/api/health') return res.end('{"status":"ok"}');
         const { PORT, HOST, NODE_ENV, DATA_DIR, DATABASE_URL, ENCRYPTION_KEY, CLERK_JWT_KEY, EXTRA } = process.env;
         res.end(JSON.stringify({ pid: process.pid, PORT, HOST, NODE_ENV, DATA_DIR, DATABASE_URL, ENCRYPTION_KEY, CLERK_JWT_KEY, EXTRA }));
       }).listen(Number(process.env.PORT), process.env.HOST);
       process.on('SIGTERM', () => { console.log('stub stopping'); process.exit(0); });`,
    );
    fs.writeFileSync(crashEntry, `console.error('config error: FOO is invalid'); process.exit(3);`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('spawns, waits for health, restarts on the same port and database, and cleans up', async () => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://inherited.invalid/db';
    const app = await startApp({ entry: stubEntry, env: { EXTRA: 'yes' } }).finally(() => {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    });
    const first = await app.request('GET', '/api/env');
    assert.equal(first.status, 200);
    assert.equal(first.body.PORT, String(app.port));
    assert.equal(first.body.HOST, '127.0.0.1');
    assert.equal(first.body.NODE_ENV, 'test');
    assert.equal(first.body.EXTRA, 'yes');
    assert.equal(first.body.CLERK_JWT_KEY, publicKeyPem);
    assert.equal(Buffer.from(first.body.ENCRYPTION_KEY, 'base64').length, 32);
    assert.equal(first.body.DATABASE_URL, app.database.env.DATABASE_URL, 'inherited DATABASE_URL is not passed on');

    await app.restart();
    const second = await app.request('GET', '/api/env');
    assert.notEqual(second.body.pid, first.body.pid);
    assert.deepEqual({ ...second.body, pid: 0 }, { ...first.body, pid: 0 });

    const status = await app.stop();
    assert.equal(status.code, 0);
    assert.match(app.logs(), /stub up on[\s\S]*stub stopping[\s\S]*stub up on[\s\S]*stub stopping/);
    if (app.database.kind === 'pglite') assert.equal(fs.existsSync(app.database.env.DATA_DIR), false);
  });

  it('fails with the captured output when the process exits during start-up', async () => {
    await assert.rejects(startApp({ entry: crashEntry }), /code 3[\s\S]*config error: FOO is invalid/);
  });

  it('keeps a database it was given', async () => {
    const database = await createTestDatabase();
    const app = await startApp({ entry: stubEntry, database });
    await app.kill();
    if (database.kind === 'pglite') assert.ok(fs.existsSync(database.env.DATA_DIR));
    await database.drop();
  });

  it(
    'creates and drops PostgreSQL databases',
    { skip: !postgresAvailable() && 'TEST_DATABASE_URL not set' },
    async () => {
      const database = await createTestDatabase();
      assert.equal(database.kind, 'postgres');
      const client = new Client({ connectionString: database.env.DATABASE_URL });
      client.on('error', () => undefined); // the forced drop terminates this connection
      await client.connect();
      const { rows } = await client.query('SELECT current_database() AS name');
      assert.match(rows[0].name, /^umb_t_[0-9a-f]{12}$/);
      // A connection left open must not block the drop.
      await database.drop();
      await client.end().catch(() => undefined);
    },
  );

  it('starts a cluster on one database', { skip: !postgresAvailable() && 'TEST_DATABASE_URL not set' }, async () => {
    const cluster = await startCluster(2, { entry: stubEntry });
    const [a, b] = await Promise.all(cluster.apps.map((app) => app.request('GET', '/api/env')));
    assert.notEqual(a.body.PORT, b.body.PORT);
    assert.equal(a.body.DATABASE_URL, b.body.DATABASE_URL);
    assert.equal(a.body.ENCRYPTION_KEY, b.body.ENCRYPTION_KEY);
    await cluster.stopAll();
  });
});
