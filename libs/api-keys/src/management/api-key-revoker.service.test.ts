/**
 * ApiKeyRevoker around a mocked ApiKeyRepository (Nest testing module, no database): one key is revoked through
 * its tenant's view and audited once (a revoked key changes nothing); the bulk revocations run in the caller's
 * unit of work, audit each key in its own tenant with the reason, and drop cached keys only when the caller
 * runs the returned after-commit step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AuditService, type AuditScope } from '#libs/audit';
import { Transactions, type UnitOfWork } from '#libs/database';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository, type RevokedKey } from '../api-key.repository';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';
import { ApiKeyRevoker } from './api-key-revoker.service';

const TENANT_A = '6f1f9c1e-0000-4000-8000-00000000000a';
const TENANT_B = '6f1f9c1e-0000-4000-8000-00000000000b';
const scope: AuditScope = { actor: { type: 'user', id: 'u-actor' }, requestId: 'req-1' };
const callerUow = { caller: true } as unknown as UnitOfWork;
const ownUow = { own: true } as unknown as UnitOfWork;

async function build(stored: Partial<ApiKey> = {}) {
  const calls: string[] = [];
  const updates: Partial<ApiKey>[] = [];
  const audits: { action: string; tenantId: string; target: { id: string }; metadata: Record<string, unknown> }[] = [];
  const auditUows: UnitOfWork[] = [];
  const synced: string[] = [];
  const revokedOf = (ids: [string, string][]): RevokedKey[] =>
    ids.map(([tenantId, id]) => ({ id, tenantId, prefix: `umb_${id}` }));
  const keys = {
    forTenant: (tenantId: string) => ({
      lock: async (uow: UnitOfWork, id: string) => {
        calls.push(`lock ${tenantId} ${id} ${uow === ownUow ? 'own' : 'other'}`);
        return { id, tenantId, prefix: 'umb_k1', revokedAt: null, ...stored } as ApiKey;
      },
      update: async (_u: UnitOfWork, id: string, values: Partial<ApiKey>) => {
        updates.push(values);
        return { id, ...values } as ApiKey;
      },
      revokeAll: async (uow: UnitOfWork) => {
        calls.push(`revokeAll ${tenantId} ${uow === callerUow ? 'caller' : 'other'}`);
        return revokedOf([
          [tenantId, 'k1'],
          [tenantId, 'k2'],
        ]);
      },
      revokeAllOfMember: async (uow: UnitOfWork, userId: string) => {
        calls.push(`revokeAllOfMember ${tenantId} ${userId} ${uow === callerUow ? 'caller' : 'other'}`);
        return revokedOf([[tenantId, 'k3']]);
      },
    }),
    revokeAllOfUser: async (uow: UnitOfWork, userId: string) => {
      calls.push(`revokeAllOfUser ${userId} ${uow === callerUow ? 'caller' : 'other'}`);
      return revokedOf([
        [TENANT_A, 'k4'],
        [TENANT_B, 'k5'],
      ]);
    },
  };
  const moduleRef = await Test.createTestingModule({
    providers: [
      ApiKeyRevoker,
      { provide: Transactions, useValue: { run: (work: (u: UnitOfWork) => unknown) => work(ownUow) } },
      { provide: ApiKeyRepository, useValue: keys },
      {
        provide: AuditService,
        useValue: {
          record: async (e: (typeof audits)[number], uow: UnitOfWork) => {
            audits.push(e);
            auditUows.push(uow);
          },
        },
      },
      { provide: ApiKeyCacheSync, useValue: { keyChanged: async (id: string) => synced.push(id) } },
    ],
  }).compile();
  return { revoker: moduleRef.get(ApiKeyRevoker), calls, updates, audits, auditUows, synced };
}

describe('ApiKeyRevoker.revoke', () => {
  it("revokes now through the key's tenant, audits it in the same transaction and drops it from the caches", async () => {
    const { revoker, calls, updates, audits, auditUows, synced } = await build();
    const before = Date.now();
    await revoker.revoke(TENANT_A, 'k1', scope);
    assert.deepEqual(calls, [`lock ${TENANT_A} k1 own`]);
    assert.equal(updates.length, 1);
    assert.ok(updates[0].revokedAt!.getTime() >= before && updates[0].revokedAt!.getTime() <= Date.now());
    assert.deepEqual(
      audits.map((a) => [a.action, a.tenantId, a.target.id, a.metadata.reason]),
      [['api_key.revoked', TENANT_A, 'k1', 'revoked']],
    );
    assert.deepEqual(auditUows, [ownUow]);
    assert.deepEqual(synced, ['k1']);
  });

  it('a key revoked already is neither written nor audited again', async () => {
    const { revoker, updates, audits } = await build({ revokedAt: new Date(Date.now() - 1000) });
    await revoker.revoke(TENANT_A, 'k1', scope);
    assert.deepEqual(updates, []);
    assert.deepEqual(audits, []);
  });

  it('a key in its rotation grace period is revoked now', async () => {
    const { revoker, updates, audits } = await build({ revokedAt: new Date(Date.now() + 60_000) });
    await revoker.revoke(TENANT_A, 'k1', scope);
    assert.ok(updates[0].revokedAt!.getTime() <= Date.now());
    assert.equal(audits.length, 1);
  });
});

describe("ApiKeyRevoker: revocations inside the caller's transaction", () => {
  it("a deleted tenant's keys: in the caller's unit of work, audited with the reason, dropped after the commit", async () => {
    const { revoker, calls, audits, auditUows, synced } = await build();
    const afterCommit = await revoker.revokeAllOfTenant(callerUow, TENANT_A, scope);
    assert.deepEqual(calls, [`revokeAll ${TENANT_A} caller`]);
    assert.deepEqual(
      audits.map((a) => [a.tenantId, a.target.id, a.metadata.reason, a.metadata.prefix]),
      [
        [TENANT_A, 'k1', 'tenant_deleted', 'umb_k1'],
        [TENANT_A, 'k2', 'tenant_deleted', 'umb_k2'],
      ],
    );
    assert.deepEqual(auditUows, [callerUow, callerUow]);
    assert.deepEqual(synced, [], 'nothing leaves the caches before the commit');
    await afterCommit();
    assert.deepEqual(synced.sort(), ['k1', 'k2']);
  });

  it("a removed member's keys in that tenant", async () => {
    const { revoker, calls, audits } = await build();
    await revoker.revokeAllOfMember(callerUow, TENANT_B, 'u-member', scope);
    assert.deepEqual(calls, [`revokeAllOfMember ${TENANT_B} u-member caller`]);
    assert.deepEqual(
      audits.map((a) => [a.tenantId, a.target.id, a.metadata.reason]),
      [[TENANT_B, 'k3', 'member_removed']],
    );
  });

  it("a deleted user's keys in every tenant, each audited in its own tenant", async () => {
    const { revoker, calls, audits, synced } = await build();
    const afterCommit = await revoker.revokeAllOfUser(callerUow, 'u-gone', scope);
    assert.deepEqual(calls, ['revokeAllOfUser u-gone caller']);
    assert.deepEqual(
      audits.map((a) => [a.tenantId, a.target.id, a.metadata.reason]),
      [
        [TENANT_A, 'k4', 'user_deleted'],
        [TENANT_B, 'k5', 'user_deleted'],
      ],
    );
    await afterCommit();
    assert.deepEqual(synced.sort(), ['k4', 'k5']);
  });
});
