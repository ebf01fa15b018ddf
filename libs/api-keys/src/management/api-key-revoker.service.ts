import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityManagerOf, type UnitOfWork, unitOfWorkOf } from '#libs/database';
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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditService,
    private readonly sync: ApiKeyCacheSync,
  ) {}

  /** Refused from the next request on, on every instance. Revoking a revoked key changes nothing. */
  async revoke(tenantId: string, keyId: string, scope: AuditScope): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const key = await this.keys.lock(m, tenantId, keyId);
      if (statusOf({ isActive: true, expiresAtMs: null, revokedAtMs: key.revokedAt?.getTime() ?? null }) === 'revoked')
        return;
      await this.keys.update(m, tenantId, keyId, { revokedAt: new Date() });
      await this.recordAll(m, [{ id: key.id, tenantId, prefix: key.prefix }], 'revoked', scope);
    });
    await this.sync.keyChanged(keyId);
  }

  /** Inside the tenant-deleting transaction; returns the cache drops for after the commit. */
  async revokeAllOfTenant(uow: UnitOfWork, tenantId: string, scope: AuditScope): Promise<AfterCommit> {
    const m = entityManagerOf(uow);
    return this.afterCommit(
      await this.recordAll(m, await this.keys.revokeAllOfTenant(m, tenantId), 'tenant_deleted', scope),
    );
  }

  /** Inside the member-removing transaction: the member's keys in that tenant. */
  async revokeAllOfMember(uow: UnitOfWork, tenantId: string, userId: string, scope: AuditScope): Promise<AfterCommit> {
    const m = entityManagerOf(uow);
    return this.afterCommit(
      await this.recordAll(m, await this.keys.revokeAllOfMember(m, tenantId, userId), 'member_removed', scope),
    );
  }

  /** Inside the caller's transaction (e.g. a user deleted at Clerk): the user's keys in every tenant. */
  async revokeAllOfUser(uow: UnitOfWork, userId: string, scope: AuditScope): Promise<AfterCommit> {
    const m = entityManagerOf(uow);
    return this.afterCommit(await this.recordAll(m, await this.keys.revokeAllOfUser(m, userId), 'user_deleted', scope));
  }

  private async recordAll(
    m: EntityManager,
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
        unitOfWorkOf(m),
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
