/**
 * ApiKeyEditor around a mocked ApiKeyRepository (Nest testing module, no database): the service applies
 * the strength rules (api-key-rules.ts, tested on their own) to the key as stored and the change as asked:
 * anyone the route lets in lowers, only the key's user raises; nothing written or audited when refused or
 * unchanged. Transactions runs the work with a bare unit of work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, type AuditScope } from '#libs/audit';
import { AppError } from '#libs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository } from '../api-key.repository';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';
import { ApiKeyEditor } from './api-key-editor.service';

const TENANT = '6f1f9c1e-0000-4000-8000-000000000001';
const KEY_USER = 'u-key-user';
const ADMIN = 'u-admin';
const asUser = (id: string): AuditScope => ({ actor: { type: 'user', id }, requestId: null });
/** An API key acting as `userId` (e.g. a users:write key of an admin). */
const asKeyOf = (userId: string): AuditScope => ({
  actor: { type: 'api_key', id: 'k-other', userId },
  requestId: null,
});

function storedKey(over: Partial<ApiKey> = {}): ApiKey {
  return {
    id: 'k1',
    tenantId: TENANT,
    name: 'key',
    prefix: 'umb_abcd',
    userId: KEY_USER,
    scopes: ['chat', 'usage:read'],
    isActive: true,
    rateLimitPerMinute: 60,
    tokenQuota: 1000,
    quotaPeriod: 'month',
    budgetUsd: 5,
    budgetPeriod: 'month',
    expiresAt: null,
    revokedAt: null,
    ...over,
  } as ApiKey;
}

async function build(key: ApiKey) {
  const updates: Partial<ApiKey>[] = [];
  const audits: { action: string; metadata?: Record<string, unknown> }[] = [];
  const synced: string[] = [];
  const tenants: string[] = [];
  const keys = {
    forTenant: (tenantId: string) => {
      tenants.push(tenantId);
      return {
        lock: async () => key,
        update: async (_u: UnitOfWork, _id: string, values: Partial<ApiKey>) => {
          updates.push(values);
          return { ...key, ...values };
        },
      };
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      ApiKeyEditor,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work({} as UnitOfWork) } },
      { provide: ApiKeyRepository, useValue: keys },
      { provide: AuditService, useValue: { record: async (e: (typeof audits)[number]) => audits.push(e) } },
      { provide: ApiKeyCacheSync, useValue: { keyChanged: async (id: string) => synced.push(id) } },
    ],
  }).compile();
  return { editor: moduleRef.get(ApiKeyEditor), updates, audits, synced, tenants };
}

const forbidden = (err: unknown) => err instanceof AppError && err.code === 'forbidden' && err.status === 403;

describe('ApiKeyEditor: owners and admins lower', () => {
  it('an admin lowers limits, narrows scopes and disables; only the changed fields are written and audited', async () => {
    const { editor, updates, audits, synced, tenants } = await build(storedKey());
    const saved = await editor.update(
      TENANT,
      'k1',
      { rateLimitPerMinute: 10, scopes: ['chat'], isActive: false, tokenQuota: 500, budgetUsd: 1, name: 'key' },
      asUser(ADMIN),
    );
    assert.deepEqual(tenants, [TENANT]);
    assert.equal(saved.rateLimitPerMinute, 10);
    assert.deepEqual(updates, [
      {
        scopes: ['chat'],
        rateLimitPerMinute: 10,
        tokenQuota: 500,
        budgetUsd: 1,
        isActive: false,
      },
    ]);
    assert.deepEqual(audits[0].metadata, {
      prefix: 'umb_abcd',
      changes: {
        scopes: { from: ['chat', 'usage:read'], to: ['chat'] },
        rate_limit_per_minute: { from: 60, to: 10 },
        token_quota: { from: 1000, to: 500 },
        budget_usd: { from: 5, to: 1 },
        is_active: { from: true, to: false },
      },
    });
    assert.deepEqual(synced, ['k1']);
  });

  it('an admin may set a first expiry (shortening the life is lowering)', async () => {
    const { editor, updates } = await build(storedKey());
    const at = new Date(Date.now() + 3_600_000);
    await editor.update(TENANT, 'k1', { expiresAt: at }, asKeyOf(ADMIN));
    assert.deepEqual(updates, [{ expiresAt: at }]);
  });
});

describe("ApiKeyEditor: only the key's user raises", () => {
  const raises: [string, Parameters<ApiKeyEditor['update']>[2], Partial<ApiKey>?][] = [
    ['a higher rate limit', { rateLimitPerMinute: 61 }],
    ['a wider scope', { scopes: ['chat', 'usage:read', 'users:write'] }],
    ['a removed token quota', { tokenQuota: null }],
    ['a shorter quota period', { quotaPeriod: 'day' }],
    ['a higher budget', { budgetUsd: 5.000001 }],
    ['re-enabling', { isActive: true }, { isActive: false }],
    ['a removed expiry', { expiresAt: null }, { expiresAt: new Date(Date.now() + 60_000) }],
  ];
  for (const [what, change, stored] of raises) {
    it(`${what}: 403 for an admin (signed in or through a key), nothing written; allowed for the key's user`, async () => {
      const { editor, updates, audits, synced } = await build(storedKey(stored));
      await assert.rejects(editor.update(TENANT, 'k1', change, asUser(ADMIN)), forbidden);
      await assert.rejects(editor.update(TENANT, 'k1', change, asKeyOf(ADMIN)), forbidden);
      assert.deepEqual(updates, []);
      assert.deepEqual(audits, []);
      assert.deepEqual(synced, []);
      await editor.update(TENANT, 'k1', change, asUser(KEY_USER));
      await editor.update(TENANT, 'k1', change, asKeyOf(KEY_USER));
      assert.equal(updates.length, 2);
    });
  }

  it('a key with no user is raised by nobody', async () => {
    const { editor, updates } = await build(storedKey({ userId: null }));
    await assert.rejects(editor.update(TENANT, 'k1', { rateLimitPerMinute: 100 }, asUser(KEY_USER)), forbidden);
    assert.deepEqual(updates, []);
  });
});

describe('ApiKeyEditor: what is not a change', () => {
  it('the same values (scopes in another order) write nothing and audit nothing, for anyone', async () => {
    const { editor, updates, audits } = await build(storedKey());
    const saved = await editor.update(
      TENANT,
      'k1',
      { scopes: ['usage:read', 'chat'], rateLimitPerMinute: 60, budgetUsd: 5.0000001 },
      asUser(ADMIN),
    );
    assert.equal(saved.id, 'k1');
    assert.deepEqual(updates, []);
    assert.deepEqual(audits, []);
  });

  it('a revoked key is not edited, not even lowered', async () => {
    const { editor, updates } = await build(storedKey({ revokedAt: new Date(Date.now() - 1000) }));
    await assert.rejects(
      editor.update(TENANT, 'k1', { rateLimitPerMinute: 1 }, asUser(KEY_USER)),
      (err: unknown) => err instanceof AppError && err.code === 'api_key_already_revoked',
    );
    assert.deepEqual(updates, []);
  });
});
