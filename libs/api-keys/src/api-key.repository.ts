import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, LessThanOrEqual, Not, Or } from 'typeorm';
import { Errors, isUuid, requireTenantId } from '#libs/common';
import { ApiKey } from './api-key.entity';

export interface RevokedKey {
  id: string;
  tenantId: string;
  prefix: string;
}

/**
 * API keys of one tenant: every method takes the tenant id first and refuses an empty one, so that a
 * key of another tenant is simply not found (404). The one cross-tenant read, by hash, lives in the
 * authenticator's lookup: a request's key is how its tenant is learnt.
 */
@Injectable()
export class ApiKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  list(tenantId: string, includeRevoked: boolean): Promise<ApiKey[]> {
    const now = new Date();
    return this.dataSource.getRepository(ApiKey).find({
      where: {
        tenantId: requireTenantId(tenantId),
        ...(includeRevoked ? {} : { revokedAt: Or(IsNull(), Not(LessThanOrEqual(now))) }),
      },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  async get(tenantId: string, id: string, m: EntityManager = this.dataSource.manager): Promise<ApiKey> {
    const key = isUuid(id) ? await m.findOneBy(ApiKey, { tenantId: requireTenantId(tenantId), id }) : null;
    if (!key) throw Errors.notFound('API key');
    return key;
  }

  /** The key, row-locked for the rest of the transaction. */
  async lock(m: EntityManager, tenantId: string, id: string): Promise<ApiKey> {
    const key = isUuid(id)
      ? await m
          .getRepository(ApiKey)
          .findOne({ where: { tenantId: requireTenantId(tenantId), id }, lock: { mode: 'pessimistic_write' } })
      : null;
    if (!key) throw Errors.notFound('API key');
    return key;
  }

  async insert(m: EntityManager, tenantId: string, values: Omit<Partial<ApiKey>, 'tenantId'>): Promise<ApiKey> {
    const row = m.create(ApiKey, { ...values, tenantId: requireTenantId(tenantId) });
    return m.save(ApiKey, row);
  }

  /** Writes only the given columns (updated_at moves too), then reads the row back. */
  async update(
    m: EntityManager,
    tenantId: string,
    id: string,
    patch: Partial<Omit<ApiKey, 'id' | 'tenantId'>>,
  ): Promise<ApiKey> {
    await m.update(ApiKey, { tenantId: requireTenantId(tenantId), id }, patch);
    return this.get(tenantId, id, m);
  }

  /** Revokes (now) every key acting as this user, in every tenant (the user was deleted). */
  revokeAllOfUser(m: EntityManager, userId: string): Promise<RevokedKey[]> {
    return this.revokeWhere(m, `user_id = $1`, [userId]);
  }

  /** Revokes (now) every key of the tenant still usable or in grace; returns what it revoked. */
  revokeAllOfTenant(m: EntityManager, tenantId: string): Promise<RevokedKey[]> {
    return this.revokeWhere(m, `tenant_id = $1`, [requireTenantId(tenantId)]);
  }

  /** Revokes (now) the keys acting as this member in the tenant. */
  revokeAllOfMember(m: EntityManager, tenantId: string, userId: string): Promise<RevokedKey[]> {
    return this.revokeWhere(m, `tenant_id = $1 AND user_id = $2`, [requireTenantId(tenantId), userId]);
  }

  /** The application's clock decides (it is the one that checks revoked_at on every request). */
  private async revokeWhere(m: EntityManager, where: string, params: unknown[]): Promise<RevokedKey[]> {
    const at = `$${params.length + 1}`;
    const [rows] = await m.query(
      `UPDATE api_keys SET revoked_at = ${at}, updated_at = now() WHERE ${where} AND (revoked_at IS NULL OR revoked_at > ${at}) RETURNING id, tenant_id AS "tenantId", prefix`,
      [...params, new Date()],
    );
    return rows as RevokedKey[];
  }
}
