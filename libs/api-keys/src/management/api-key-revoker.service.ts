import { Injectable } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { AuditService, type AuditScope } from '#libs/audit';
import type { AfterCommit } from '#libs/tenants';
import { ApiKeyRepository, RevokedKey } from '../api-key.repository';
import { statusOf } from '../api-key-state';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';

export type RevocationReason = 'revoked' | 'tenant_deleted' | 'member_removed' | 'user_deleted';

/**
 * Revoking keys: one by id, or all of a tenant, a member or a user when those go away. Revoked keys
 * stay (for the record and for `api_key_revoked` answers) until their tenant is deleted.
 */
@Injectable()
export class ApiKeyRevoker {
  constructor(
    private readonly transactions: Transactions,
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditService,
    private readonly sync: ApiKeyCacheSync,
  ) {}

  /** Refused from the next request on, on every instance. Revoking a revoked key changes nothing. */
  async revoke(tenantId: string, keyId: string, scope: AuditScope): Promise<void> {
    const keys = this.keys.forTenant(tenantId);
    await this.transactions.run(async (uow) => {
      const key = await keys.lock(uow, keyId);
      if (statusOf({ isActive: true, expiresAtMs: null, revokedAtMs: key.revokedAt?.getTime() ?? null }) === 'revoked')
        return;
      await keys.update(uow, keyId, { revokedAt: new Date() });
      await this.recordAll(uow, [{ id: key.id, tenantId, prefix: key.prefix }], 'revoked', scope);
    });
    await this.sync.keyChanged(keyId);
  }

  /** Inside the tenant-deleting transaction; returns the cache drops for after the commit. */
  async revokeAllOfTenant(uow: UnitOfWork, tenantId: string, scope: AuditScope): Promise<AfterCommit> {
    return this.afterCommit(
      await this.recordAll(uow, await this.keys.forTenant(tenantId).revokeAll(uow), 'tenant_deleted', scope),
    );
  }

  /** Inside the member-removing transaction: the member's keys in that tenant. */
  async revokeAllOfMember(uow: UnitOfWork, tenantId: string, userId: string, scope: AuditScope): Promise<AfterCommit> {
    const revoked = await this.keys.forTenant(tenantId).revokeAllOfMember(uow, userId);
    return this.afterCommit(await this.recordAll(uow, revoked, 'member_removed', scope));
  }

  /** Inside the caller's transaction (e.g. a user deleted at Clerk): the user's keys in every tenant. */
  async revokeAllOfUser(uow: UnitOfWork, userId: string, scope: AuditScope): Promise<AfterCommit> {
    return this.afterCommit(
      await this.recordAll(uow, await this.keys.revokeAllOfUser(uow, userId), 'user_deleted', scope),
    );
  }

  private async recordAll(
    uow: UnitOfWork,
    revoked: RevokedKey[],
    reason: RevocationReason,
    scope: AuditScope,
  ): Promise<RevokedKey[]> {
    for (const key of revoked) {
      await this.audit.record(
        {
          action: 'api_key.revoked',
          ...scope,
          tenantId: key.tenantId,
          target: { type: 'api_key', id: key.id },
          metadata: { prefix: key.prefix, reason },
        },
        uow,
      );
    }
    return revoked;
  }

  private afterCommit(revoked: RevokedKey[]): AfterCommit {
    return async () => {
      await Promise.all(revoked.map((key) => this.sync.keyChanged(key.id)));
    };
  }
}
