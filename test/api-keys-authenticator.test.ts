import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { QueryFailedError } from 'typeorm';
import { AppError, toErrorResponse } from '#libs/common';
import { generateApiKey } from '../libs/api-keys/src/format/api-key-format';
import type { ApiKeyLookup } from '../libs/api-keys/src/auth/api-key.lookup';
import { ApiKeyCacheSync } from '../libs/api-keys/src/auth/api-key-cache.sync';
import { ApiKeyAuthenticatorService } from '../libs/api-keys/src/auth/api-key.authenticator';
import type { LastUsedTracker } from '../libs/api-keys/src/auth/last-used.tracker';
import type { VerifiedKey } from '../libs/api-keys/src/auth/verified-key';
import '../libs/api-keys/src/api-keys.errors'; // the lib's codes, registered as its index would

type Bus = ConstructorParameters<typeof ApiKeyCacheSync>[0];

function fakeBus() {
  const handlers = new Map<string, ((id: string) => void)[]>();
  return {
    on: (topic: string, h: (id: string) => void) => handlers.set(topic, [...(handlers.get(topic) ?? []), h]),
    publish: (topic: string, id: string) => handlers.get(topic)?.forEach((h) => h(id)),
  };
}

function verified(id: string, overrides: Partial<VerifiedKey> = {}): VerifiedKey {
  return {
    id,
    tenantId: 't1',
    userId: 'u1',
    isActive: true,
    expiresAtMs: null,
    revokedAtMs: null,
    tenant: { id: 't1', name: 'T', slug: 't' },
    user: { id: 'u1', clerkUserId: 'user_1', email: 'a@example.test' },
    userStatus: 'active',
    userIsMember: true,
    userRole: 'admin',
    apiKey: {
      id,
      tenantId: 't1',
      name: 'k',
      prefix: 'umk_x',
      scopes: ['chat'],
      rateLimitPerMinute: 5,
      userId: 'u1',
      tokenQuota: null,
      quotaPeriod: null,
      budgetUsd: null,
      budgetPeriod: 'month',
      tenantBudgetUsd: null,
      tenantBudgetPeriod: 'month',
      expiresAt: null,
      userRole: 'admin',
    },
    ...overrides,
  };
}

function setUp(byHash: (hash: string) => Promise<VerifiedKey | null>, redis: EventEmitter | null = null) {
  const bus = fakeBus();
  const sync = new ApiKeyCacheSync(bus as unknown as Bus, redis as never);
  let lookups = 0;
  const lookup = { byHash: (h: string) => (lookups++, byHash(h)) } as unknown as ApiKeyLookup;
  const touched: string[] = [];
  const tracker = { touch: (id: string) => touched.push(id) } as unknown as LastUsedTracker;
  return { auth: new ApiKeyAuthenticatorService(lookup, sync, tracker), bus, lookups: () => lookups, touched };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return toErrorResponse(err).status + ' ' + toErrorResponse(err).code;
  }
}

describe('ApiKeyAuthenticatorService', () => {
  it('refuses malformed keys without a lookup', async () => {
    const t = setUp(async () => verified('k1'));
    const { key } = generateApiKey();
    for (const bad of ['', 'umk_short', key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a'), `sk-${key}`]) {
      assert.equal(await codeOf(t.auth.authenticate(bad)), '401 invalid_api_key');
    }
    assert.equal(t.lookups(), 0);
  });

  it('caches a verified key and drops it on invalidation', async () => {
    const t = setUp(async () => verified('k1'));
    const { key } = generateApiKey();
    const ctx = await t.auth.authenticate(key);
    assert.equal(ctx.kind, 'api_key');
    assert.equal(ctx.apiKey?.id, 'k1');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 1);
    t.bus.publish('api_key', 'k1');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 2);
    t.bus.publish('tenant', 't1');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 3);
    // A membership, role or status change of the key's user is published on the user topic.
    t.bus.publish('user', 'u1');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 4);
    assert.deepEqual(t.touched, ['k1', 'k1', 'k1', 'k1', 'k1']);
  });

  it('does not cache a row read while an invalidation arrived (generation check)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    const t = setUp(async () => {
      if (first) {
        first = false;
        await gate; // the stale read is in flight...
        return verified('k1');
      }
      return verified('k1', { revokedAtMs: Date.now() - 1 });
    });
    const { key } = generateApiKey();
    const inFlight = t.auth.authenticate(key);
    t.bus.publish('api_key', 'k1'); // ...when the revoke's invalidation arrives
    release();
    assert.equal(await codeOf(inFlight), 'ok', 'the request that started before the revoke may pass');
    assert.equal(await codeOf(t.auth.authenticate(key)), '401 api_key_revoked', 'but nothing stale was cached');
  });

  it('answers the contract codes for key states', async () => {
    const now = Date.now();
    const states: [Partial<VerifiedKey>, string][] = [
      [{ revokedAtMs: now - 1 }, '401 api_key_revoked'],
      [{ revokedAtMs: now + 60_000 }, 'ok'],
      [{ expiresAtMs: now - 1 }, '401 api_key_expired'],
      [{ isActive: false }, '403 api_key_disabled'],
      [{ userIsMember: false }, '401 api_key_revoked'],
      [{ userStatus: 'deactivated' }, '401 api_key_revoked'],
      [{ userStatus: 'pending' }, '401 api_key_revoked'],
    ];
    for (const [state, expected] of states) {
      const t = setUp(async () => verified('k1', state));
      assert.equal(await codeOf(t.auth.authenticate(generateApiKey().key)), expected, JSON.stringify(state));
    }
    const unknown = setUp(async () => null);
    const { key } = generateApiKey();
    assert.equal(await codeOf(unknown.auth.authenticate(key)), '401 invalid_api_key');
    assert.equal(await codeOf(unknown.auth.authenticate(key)), '401 invalid_api_key');
    assert.equal(unknown.lookups(), 1, 'unknown hashes are cached briefly too');
  });

  it('does not cache while invalidations could be missed (Redis down), and starts empty when it is back', async () => {
    const redis = Object.assign(new EventEmitter(), { status: 'connecting' });
    const t = setUp(async () => verified('k1'), redis);
    const { key } = generateApiKey();
    await t.auth.authenticate(key);
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 2, 'no cache before Redis is ready');
    redis.status = 'ready';
    redis.emit('ready');
    await t.auth.authenticate(key);
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 3, 'cached once Redis is ready');
    redis.status = 'reconnecting';
    redis.emit('close');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 4, 'bypassed again while Redis is down');
    redis.status = 'ready';
    redis.emit('ready');
    await t.auth.authenticate(key);
    assert.equal(t.lookups(), 5, 'the cache starts empty after the outage');
  });

  it('turns a database outage into 503 database_unavailable, never 401', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const poolTimeout = new Error('timeout exceeded when trying to connect');
    for (const failure of [refused, poolTimeout]) {
      const t = setUp(async () => {
        throw failure;
      });
      const err = await t.auth.authenticate(generateApiKey().key).catch((e: unknown) => e);
      assert.ok(err instanceof AppError);
      assert.deepEqual([toErrorResponse(err).status, toErrorResponse(err).code], [503, 'database_unavailable']);
    }
    const sqlBug = new QueryFailedError('SELECT', [], Object.assign(new Error('syntax error'), { code: '42601' }));
    const t = setUp(async () => {
      throw sqlBug;
    });
    assert.equal(await codeOf(t.auth.authenticate(generateApiKey().key)), '500 internal_error');
  });
});
