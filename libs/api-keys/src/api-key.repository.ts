import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, LessThanOrEqual, Not, Or } from 'typeorm';
import { Errors, isUuid } from '#libs/common';
import { TableRepository, TenantScope, type UnitOfWork } from '#libs/database';
import type { TenantRole } from '#libs/tenants';
import { ApiKey, type QuotaPeriod } from './api-key.entity';
import type { ApiKeyScope } from './scopes';

export interface RevokedKey {
  id: string;
  tenantId: string;
  prefix: string;
}

/** A key found by its hash, with what a request needs of its tenant, its user and their membership. */
export interface KeyByHashRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  rate_limit_per_minute: number;
  token_quota: string | null;
  quota_period: QuotaPeriod | null;
  budget_usd: string | null;
  budget_period: QuotaPeriod;
  tenant_budget_usd: string | null;
  tenant_budget_period: QuotaPeriod;
  is_active: boolean;
  expires_at: Date | null;
  revoked_at: Date | null;
  tenant_name: string;
  tenant_slug: string;
  user_email: string | null;
  clerk_user_id: string | null;
  user_status: string | null;
  user_is_member: boolean;
  user_role: TenantRole | null;
}

/**
 * The `api_keys` table. A tenant's keys are reached through `forTenant(tenantId)`, whose every statement names
 * that tenant, so that a key of another tenant is simply not found (404). The few reads and writes across
 * tenants are the named methods below, each with its reason.
 */
@Injectable()
export class ApiKeyRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  forTenant(tenantId: string): TenantApiKeys {
    return new TenantApiKeys(
      TenantScope.of(tenantId),
      (uow) => this.manager(uow),
      (uow, where, params) => this.revokeWhere(uow, where, params),
    );
  }

  /**
   * Cross-tenant: the key is what tells which tenant a request is for. Cross-table read: the key with its
   * tenant (name, budget), its user and the user's membership of that tenant, in one indexed query (the hot
   * path of every key-authenticated request).
   */
  async byHash(hash: string): Promise<KeyByHashRow | null> {
    const rows: KeyByHashRow[] = await this.manager().query(
      `SELECT k.id, k.tenant_id, k.user_id, k.name, k.prefix, k.scopes, k.rate_limit_per_minute, k.token_quota, k.quota_period,
              k.budget_usd, k.budget_period, t.budget_usd AS tenant_budget_usd, t.budget_period AS tenant_budget_period,
              k.is_active, k.expires_at, k.revoked_at, t.name AS tenant_name, t.slug AS tenant_slug,
              u.email AS user_email, u.clerk_user_id, u.status AS user_status, (m.user_id IS NOT NULL) AS user_is_member,
              m.role AS user_role
         FROM api_keys k
         JOIN tenants t ON t.id = k.tenant_id
         LEFT JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.user_id
        WHERE k.key_hash = $1`,
      [hash],
    );
    return rows[0] ?? null;
  }

  /**
   * Cross-tenant: `last_used_at` of keys already verified (by hash), by key id, whatever their tenants, in one
   * statement; a use older than the one recorded changes nothing.
   */
  async recordUses(uses: { id: string; at: Date }[], uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).query(
      `UPDATE api_keys AS k SET last_used_at = v.at
         FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS at) AS v
        WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
      [uses.map((u) => u.id), uses.map((u) => u.at.toISOString())],
    );
  }

  /**
   * Cross-tenant: a user deleted in Clerk loses every key acting as them, in every tenant. Revokes (now) those
   * still usable or in grace; returns what it revoked.
   */
  revokeAllOfUser(uow: UnitOfWork, userId: string): Promise<RevokedKey[]> {
    return this.revokeWhere(uow, `user_id = $1`, [userId]);
  }

  /** The application's clock decides (it is the one that checks revoked_at on every request). */
  private async revokeWhere(uow: UnitOfWork, where: string, params: unknown[]): Promise<RevokedKey[]> {
    const at = `$${params.length + 1}`;
    const [rows] = await this.manager(uow).query(
      `UPDATE api_keys SET revoked_at = ${at}, updated_at = now() WHERE ${where} AND (revoked_at IS NULL OR revoked_at > ${at}) RETURNING id, tenant_id AS "tenantId", prefix`,
      [...params, new Date()],
    );
    return rows as RevokedKey[];
  }
}

type ManagerOf = (uow?: UnitOfWork) => EntityManager;
type RevokeWhere = (uow: UnitOfWork, where: string, params: unknown[]) => Promise<RevokedKey[]>;

/** One tenant's keys: every statement names the scope's tenant. */
export class TenantApiKeys {
  private readonly tenantId: string;

  constructor(
    scope: TenantScope,
    private readonly manager: ManagerOf,
    private readonly revokeWhere: RevokeWhere,
  ) {
    this.tenantId = scope.tenantId;
  }

  /** Oldest first; revoked keys (past their grace) only when asked for. */
  list(includeRevoked: boolean, uow?: UnitOfWork): Promise<ApiKey[]> {
    const now = new Date();
    return this.manager(uow)
      .getRepository(ApiKey)
      .find({
        where: {
          tenantId: this.tenantId,
          ...(includeRevoked ? {} : { revokedAt: Or(IsNull(), Not(LessThanOrEqual(now))) }),
        },
        order: { createdAt: 'ASC', id: 'ASC' },
      });
  }

  async get(id: string, uow?: UnitOfWork): Promise<ApiKey> {
    const key = isUuid(id) ? await this.manager(uow).findOneBy(ApiKey, { tenantId: this.tenantId, id }) : null;
    if (!key) throw Errors.notFound('API key');
    return key;
  }

  /** The key, row-locked for the rest of the transaction. */
  async lock(uow: UnitOfWork, id: string): Promise<ApiKey> {
    const key = isUuid(id)
      ? await this.manager(uow)
          .getRepository(ApiKey)
          .findOne({ where: { tenantId: this.tenantId, id }, lock: { mode: 'pessimistic_write' } })
      : null;
    if (!key) throw Errors.notFound('API key');
    return key;
  }

  insert(uow: UnitOfWork, values: Omit<Partial<ApiKey>, 'tenantId'>): Promise<ApiKey> {
    const m = this.manager(uow);
    return m.save(ApiKey, m.create(ApiKey, { ...values, tenantId: this.tenantId }));
  }

  /** Writes only the given columns (updated_at moves too), then reads the row back. */
  async update(uow: UnitOfWork, id: string, patch: Partial<Omit<ApiKey, 'id' | 'tenantId'>>): Promise<ApiKey> {
    await this.manager(uow).update(ApiKey, { tenantId: this.tenantId, id }, patch);
    return this.get(id, uow);
  }

  /** Revokes (now) every key of the tenant still usable or in grace; returns what it revoked. */
  revokeAll(uow: UnitOfWork): Promise<RevokedKey[]> {
    return this.revokeWhere(uow, `tenant_id = $1`, [this.tenantId]);
  }

  /** Revokes (now) the keys acting as this member in the tenant. */
  revokeAllOfMember(uow: UnitOfWork, userId: string): Promise<RevokedKey[]> {
    return this.revokeWhere(uow, `tenant_id = $1 AND user_id = $2`, [this.tenantId, userId]);
  }
}
