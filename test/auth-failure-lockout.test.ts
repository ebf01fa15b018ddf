/**
 * The failed-authentication limit never locks out valid callers: a stranger's bad credentials from an address
 * (a NAT, an office, a proxy) make that address's failing credentials 429, while every credential that verifies
 * still passes from it, including ones never seen from there. In process, on whichever database the harness
 * gives; the shared count across instances with Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateApiKey } from '#libs/api-keys';
import { redisAvailable, startApp, type AppResponse, type TestApp } from './support/app';
import { expiredToken, otherKeySignedToken } from './support/clerk-tokens';
import { fixedSession, newClerkUser, sessionHeaders } from './support/users';

const LIMIT = 5;

/** A client address of its own per call: the app believes X-Forwarded-For from 127.0.0.1 (TRUST_PROXY). */
function newAddress(): Record<string, string> {
  const b = randomBytes(3);
  return { 'x-forwarded-for': `10.${b[0]}.${b[1]}.${b[2]}` };
}

function expectError(res: AppResponse, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  const actual = res.body?.code ?? res.body?.error?.code;
  assert.equal(actual, code, `${what}: ${res.text.slice(0, 300)}`);
}

async function setUp(app: TestApp): Promise<{ apiKey: string; user: ReturnType<typeof newClerkUser> }> {
  const user = newClerkUser();
  const session = fixedSession(user);
  const tenant = await app.request('POST', '/api/tenants', { headers: session(), body: { name: 'Office' } });
  assert.equal(tenant.status, 201, tenant.text);
  const key = await app.request('POST', `/api/tenants/${tenant.body.id}/api-keys`, {
    headers: session(),
    body: { name: 'office', scopes: ['users:read'] },
  });
  assert.equal(key.status, 201, key.text);
  return { apiKey: key.body.key, user };
}

describe('failed authentications never lock out valid credentials (in process)', () => {
  let app: TestApp;
  let apiKey: string;
  let user: ReturnType<typeof newClerkUser>;

  before(async () => {
    // Counted in Redis when the harness has it (the shared storage batches concurrent hits), else in process.
    app = await startApp({
      inProcess: true,
      redis: redisAvailable(),
      env: { TRUST_PROXY: '127.0.0.1', AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
    });
    ({ apiKey, user } = await setUp(app));
  });
  after(async () => {
    await app?.stop();
  });

  it("lets a valid key and a valid Clerk session through from an address a stranger's failures put over the limit", async () => {
    const office = newAddress();
    for (let i = 1; i <= LIMIT; i++)
      expectError(
        await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': `umk_guess${i}` } }),
        401,
        'invalid_api_key',
        `stranger's failure ${i}`,
      );
    const blocked = await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': 'umk_guess' } });
    expectError(blocked, 429, 'rate_limited', 'a failure over the limit');
    assert.ok(Number(blocked.headers.get('retry-after')) >= 1, 'Retry-After');

    // Neither credential was ever used from this address: nothing is remembered in its favour.
    const key = await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': apiKey } });
    assert.equal(key.status, 200, `a valid key: ${key.text}`);
    const clerk = await app.request('GET', '/api/users/me', { headers: { ...office, ...sessionHeaders(user) } });
    assert.equal(clerk.status, 200, `a new Clerk session: ${clerk.text}`);
    assert.equal(clerk.body.clerk_user_id, user.sub);
    // A valid credential that may not do something is refused for that (403), not by the limit.
    expectError(
      await app.request('GET', '/api/v1/usage', { headers: { ...office, 'x-api-key': apiKey } }),
      403,
      'forbidden',
      'a valid key lacking the scope',
    );
  });

  it('answers 429 to every credential that does not verify from an address over the limit', async () => {
    const office = newAddress();
    for (let i = 0; i < LIMIT; i++)
      await app.request('GET', '/api/users/me', { headers: { ...office, authorization: 'Bearer not-a-jwt' } });
    const failing: [string, string, Record<string, string>][] = [
      ['malformed key', '/api/v1/me', { 'x-api-key': 'umk_nope' }],
      ['well-formed unknown key', '/api/v1/me', { 'x-api-key': generateApiKey().key }],
      ['no credential', '/api/v1/me', {}],
      ['garbage token', '/api/users/me', { authorization: 'Bearer not-a-jwt' }],
      [
        'token signed by another key',
        '/api/users/me',
        { authorization: `Bearer ${otherKeySignedToken({ ...user, sid: `sess_${randomUUID()}` })}` },
      ],
      ['expired token', '/api/users/me', { authorization: `Bearer ${expiredToken({ ...user, sid: 'sess_old' })}` }],
    ];
    for (const [what, path, headers] of failing)
      expectError(await app.request('GET', path, { headers: { ...office, ...headers } }), 429, 'rate_limited', what);
    // From another address the same failures are plain 401s.
    expectError(
      await app.request('GET', '/api/v1/me', { headers: { ...newAddress(), 'x-api-key': generateApiKey().key } }),
      401,
      'invalid_api_key',
      'another address',
    );
    const key = await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': apiKey } });
    assert.equal(key.status, 200, `still a valid key: ${key.text}`);
  });

  it('counts concurrent failures exactly while valid requests from the same address all pass', async () => {
    const office = newAddress();
    const bad = Array.from({ length: LIMIT + 7 }, () =>
      app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': generateApiKey().key } }),
    );
    const good = Array.from({ length: 8 }, (_, i) =>
      i % 2
        ? app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': apiKey } })
        : app.request('GET', '/api/users/me', { headers: { ...office, ...sessionHeaders(user) } }),
    );
    const [badAnswers, goodAnswers] = await Promise.all([Promise.all(bad), Promise.all(good)]);
    assert.deepEqual(
      goodAnswers.map((r) => r.status),
      Array(8).fill(200),
    );
    const statuses = badAnswers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(LIMIT).fill(401), ...Array(7).fill(429)]);
  });

  it('does not count failures of a valid credential (a 403) or of public routes', async () => {
    const office = newAddress();
    for (let i = 0; i < LIMIT + 2; i++) {
      expectError(
        await app.request('GET', '/api/v1/usage', { headers: { ...office, 'x-api-key': apiKey } }),
        403,
        'forbidden',
        `valid key, missing scope ${i}`,
      );
      assert.equal((await app.request('GET', '/api/health', { headers: office })).status, 200);
    }
    expectError(
      await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': 'umk_nope' } }),
      401,
      'invalid_api_key',
      'the first real failure',
    );
  });
});

describe(
  'failed authentications counted across instances through Redis',
  { skip: !redisAvailable() && 'TEST_REDIS_URL not set' },
  () => {
    let first: TestApp;
    let second: TestApp;
    const apiKeys = new Map<TestApp, string>();

    // Two instances with a database each (the count lives in Redis only), each with a valid key of its own.
    before(async () => {
      const env = { TRUST_PROXY: '127.0.0.1', AUTH_FAILURES_PER_MINUTE: String(LIMIT) };
      first = await startApp({ inProcess: true, redis: true, env });
      second = await startApp({ inProcess: true, redis: true, env });
      for (const app of [first, second]) apiKeys.set(app, (await setUp(app)).apiKey);
    });
    after(async () => {
      await second?.stop();
      await first?.stop();
    });

    it('refuses on one instance the failures counted on another, and still lets the valid key through on both', async () => {
      const office = newAddress();
      for (let i = 0; i < LIMIT; i++)
        expectError(
          await (i % 2 ? first : second).request('GET', '/api/v1/me', {
            headers: { ...office, 'x-api-key': `umk_${randomUUID()}` },
          }),
          401,
          'invalid_api_key',
          `failure ${i + 1}`,
        );
      for (const app of [first, second]) {
        expectError(
          await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': 'umk_nope' } }),
          429,
          'rate_limited',
          'over the shared limit',
        );
        const ok = await app.request('GET', '/api/v1/me', { headers: { ...office, 'x-api-key': apiKeys.get(app)! } });
        assert.equal(ok.status, 200, ok.text);
      }
    });
  },
);
