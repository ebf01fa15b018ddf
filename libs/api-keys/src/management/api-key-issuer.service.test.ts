/**
 * ApiKeyIssuer around mocked collaborators (Nest testing module, no database): who a new key acts as,
 * which members a key may act as, the scopes and defaults it is stored with, and who may rotate it. The
 * repositories are mocked; Transactions runs the work with a bare unit of work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, type AuditScope } from '#libs/audit';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { Transactions, type UnitOfWork } from '#libs/database';
import { QuotaService } from '#libs/quota';
import { MembershipRepository } from '#libs/tenants';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository } from '../api-key.repository';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';
import { API_KEY_SCOPES } from '../scopes';
import { ApiKeyIssuer } from './api-key-issuer.service';

const TENANT = '6f1f9c1e-0000-4000-8000-000000000001';
const ALICE = 'u-alice';
const BOB = 'u-bob';
const PENDING = 'u-pending';
const GONE = 'u-deactivated';
const STATUS: Record<string, 'active' | 'pending' | 'deactivated'> = {
  [ALICE]: 'active',
  [BOB]: 'active',
  [PENDING]: 'pending',
  [GONE]: 'deactivated',
};
const signedIn = (id: string): AuditScope => ({ actor: { type: 'user', id }, requestId: null });
const operator: AuditScope = { actor: { type: 'cli', id: null }, requestId: null };

/** The keys of the tenants asked for (forTenant), in a map; records every write and the tenant it named. */
class MockKeys {
  inserted: Partial<ApiKey>[] = [];
  updates: { id: string; values: Partial<ApiKey> }[] = [];
  stored = new Map<string, ApiKey>();
  tenants: string[] = [];
  forTenant(tenantId: string) {
    this.tenants.push(tenantId);
    return {
      insert: async (_u: UnitOfWork, values: Partial<ApiKey>) => {
        this.inserted.push(values);
        const key = { ...values, id: `k${this.inserted.length}`, tenantId } as ApiKey;
        this.stored.set(key.id, key);
        return key;
      },
      lock: async (_u: UnitOfWork, id: string) => {
        const key = this.stored.get(id);
        if (key?.tenantId !== tenantId) throw new AppError('not_found', 'API key not found');
        return key;
      },
      update: async (_u: UnitOfWork, id: string, values: Partial<ApiKey>) => {
        this.updates.push({ id, values });
        return { ...this.stored.get(id)!, ...values };
      },
    };
  }
}

async function build() {
  const keys = new MockKeys();
  const audits: { action: string; metadata?: Record<string, unknown> }[] = [];
  const carried: string[][] = [];
  const synced: string[] = [];
  const members = {
    forTenant: () => ({
      find: async (userId: string) => (STATUS[userId] ? { userId, status: STATUS[userId] } : null),
    }),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      ApiKeyIssuer,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: ApiKeyRepository, useValue: keys },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      { provide: AppConfig, useValue: { apiKeyDefaultRateLimit: 77 } },
      { provide: ApiKeyCacheSync, useValue: { keyChanged: async (id: string) => synced.push(id) } },
      { provide: QuotaService, useValue: { carryOver: async (a: string, b: string) => carried.push([a, b]) } },
      { provide: MembershipRepository, useValue: members },
    ],
  }).compile();
  return { issuer: moduleRef.get(ApiKeyIssuer), keys, audits, carried, synced };
}

function code(expected: string) {
  return (err: unknown) => err instanceof AppError && err.code === expected;
}

describe('ApiKeyIssuer.create: who the key acts as', () => {
  it('acts as its signed-in creator when user_id is omitted or is their own id', async () => {
    const { issuer, keys } = await build();
    const a = await issuer.create(TENANT, { name: 'a' }, ALICE, signedIn(ALICE));
    await issuer.create(TENANT, { name: 'b', userId: ALICE }, ALICE, signedIn(ALICE));
    assert.deepEqual(
      keys.inserted.map((k) => k.userId),
      [ALICE, ALICE],
    );
    assert.equal(a.key.tenantId, TENANT);
    assert.deepEqual(keys.tenants, [TENANT, TENANT]);
  });

  it("refuses user_id of anyone else with 403 and stores nothing, even another active member's", async () => {
    const { issuer, keys, audits } = await build();
    await assert.rejects(
      issuer.create(TENANT, { name: 'a', userId: BOB }, ALICE, signedIn(ALICE)),
      (err: unknown) => err instanceof AppError && err.code === 'forbidden' && err.status === 403,
    );
    assert.equal(keys.inserted.length, 0);
    assert.equal(audits.length, 0);
  });

  it('an operator names the user, and must name one', async () => {
    const { issuer, keys } = await build();
    const issued = await issuer.create(TENANT, { name: 'ops', userId: BOB }, null, operator);
    assert.equal(issued.key.userId, BOB);
    await assert.rejects(issuer.create(TENANT, { name: 'ops' }, null, operator), code('validation_failed'));
    assert.equal(keys.inserted.length, 1);
  });

  it('never acts as a pending, deactivated or outside user', async () => {
    const { issuer, keys } = await build();
    await assert.rejects(
      issuer.create(TENANT, { name: 'p', userId: PENDING }, null, operator),
      code('user_not_signed_in'),
    );
    await assert.rejects(
      issuer.create(TENANT, { name: 'd', userId: GONE }, null, operator),
      code('user_not_signed_in'),
    );
    await assert.rejects(
      issuer.create(TENANT, { name: 'x', userId: 'u-stranger' }, null, operator),
      code('user_not_member'),
    );
    // A pending user signed in "as themselves" is refused the same way.
    await assert.rejects(issuer.create(TENANT, { name: 'p' }, PENDING, signedIn(PENDING)), code('user_not_signed_in'));
    assert.equal(keys.inserted.length, 0);
  });

  it('refuses an expiry in the past before opening a transaction', async () => {
    const { issuer, keys } = await build();
    await assert.rejects(
      issuer.create(TENANT, { name: 'old', expiresAt: new Date(Date.now() - 1000) }, ALICE, signedIn(ALICE)),
      code('invalid_expires_at'),
    );
    assert.equal(keys.inserted.length, 0);
  });
});

describe('ApiKeyIssuer.create: scopes and defaults', () => {
  it('stores the scopes asked for; all scopes when none are given', async () => {
    const { issuer, keys } = await build();
    await issuer.create(TENANT, { name: 'chat only', scopes: ['chat'] }, ALICE, signedIn(ALICE));
    await issuer.create(TENANT, { name: 'all' }, ALICE, signedIn(ALICE));
    assert.deepEqual(keys.inserted[0].scopes, ['chat']);
    assert.deepEqual(keys.inserted[1].scopes, [...API_KEY_SCOPES]);
  });

  it('takes the configured rate limit by default, a quota without a period counts in total, budgets per month', async () => {
    const { issuer, keys } = await build();
    await issuer.create(TENANT, { name: 'a', tokenQuota: 1000, budgetUsd: 1.2345678 }, ALICE, signedIn(ALICE));
    const values = keys.inserted[0];
    assert.equal(values.rateLimitPerMinute, 77);
    assert.equal(values.quotaPeriod, 'total');
    assert.equal(values.budgetUsd, 1.234568);
    assert.equal(values.budgetPeriod, 'month');
  });

  it('returns the plaintext once, stores only its hash and prefix, audits without the secret', async () => {
    const { issuer, keys, audits } = await build();
    const issued = await issuer.create(TENANT, { name: 'a' }, ALICE, signedIn(ALICE));
    assert.ok(issued.plaintext.startsWith(keys.inserted[0].prefix!));
    assert.notEqual(keys.inserted[0].keyHash, issued.plaintext);
    assert.equal(audits[0].action, 'api_key.created');
    assert.equal(audits[0].metadata?.user_id, ALICE);
    assert.ok(!JSON.stringify(audits).includes(issued.plaintext));
  });
});

describe('ApiKeyIssuer.rotate', () => {
  it("only the key's own user rotates; the new key keeps user and scopes and the quota carries over", async () => {
    const { issuer, keys, carried, synced } = await build();
    const { key } = await issuer.create(TENANT, { name: 'a', scopes: ['chat'] }, ALICE, signedIn(ALICE));
    await assert.rejects(issuer.rotate(TENANT, key.id, 0, signedIn(BOB)), code('forbidden'));
    assert.equal(keys.inserted.length, 1);

    keys.stored.set(key.id, { ...key, isActive: true, expiresAt: null, revokedAt: null });
    const fresh = await issuer.rotate(TENANT, key.id, 60, signedIn(ALICE));
    assert.equal(fresh.key.userId, ALICE);
    assert.deepEqual(fresh.key.scopes, ['chat']);
    assert.equal(fresh.key.rotatedFromId, key.id);
    assert.equal(keys.updates[0].id, key.id);
    assert.ok(keys.updates[0].values.revokedAt instanceof Date);
    assert.deepEqual(carried, [[key.id, fresh.key.id]]);
    assert.deepEqual(synced, [key.id]);
  });

  it('a key of another tenant is not found, and nothing is written', async () => {
    const { issuer, keys, carried } = await build();
    const { key } = await issuer.create(TENANT, { name: 'a' }, ALICE, signedIn(ALICE));
    const OTHER = '6f1f9c1e-0000-4000-8000-000000000002';
    await assert.rejects(issuer.rotate(OTHER, key.id, 0, signedIn(ALICE)), code('not_found'));
    assert.deepEqual(keys.tenants, [TENANT, OTHER]);
    assert.equal(keys.inserted.length, 1);
    assert.deepEqual(keys.updates, []);
    assert.deepEqual(carried, []);
  });

  it('a key rotated already is refused as rotating', async () => {
    const { issuer, keys } = await build();
    const { key } = await issuer.create(TENANT, { name: 'a' }, ALICE, signedIn(ALICE));
    keys.stored.set(key.id, { ...key, isActive: true, expiresAt: null, revokedAt: new Date(Date.now() + 60_000) });
    await assert.rejects(issuer.rotate(TENANT, key.id, 0, signedIn(ALICE)), code('api_key_rotating'));
    assert.equal(keys.inserted.length, 1);
  });
});
