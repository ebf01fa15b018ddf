import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { requireTenantId } from '#libs/common';
import { TableRepository, type UnitOfWork } from '#libs/database';
import type { QuotaPeriod } from '#libs/quota';
import { Tenant } from './tenant.entity';

export interface InsertedTenant {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
  personalOwnerId: string | null;
}

export interface TenantValues {
  name: string;
  /** The wanted slug, or the base a free one is derived from. */
  slug: string;
  clerkOrgId?: string;
  personalOwnerId?: string;
}

export interface LockedTenant {
  id: string;
  name: string;
  slug: string;
  personalOwnerId: string | null;
}

export interface TenantBudgetRow {
  budget_usd: string | null;
  budget_period: QuotaPeriod;
}

const RETURNING = `RETURNING id, name, slug, created_at AS "createdAt", personal_owner_id AS "personalOwnerId"`;

/** The `tenants` table (a tenant is its own scope: every statement names the row by id or by a unique key). */
@Injectable()
export class TenantRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /**
   * The tenant row, locked for the rest of the transaction; null when there is none. Every change of a tenant or
   * of its memberships takes this lock first, so that checks such as "is this the last owner?" cannot race.
   */
  async lock(uow: UnitOfWork, tenantId: string): Promise<LockedTenant | null> {
    const rows: LockedTenant[] = await this.manager(uow).query(
      `SELECT id, name, slug, personal_owner_id AS "personalOwnerId" FROM tenants WHERE id = $1 FOR UPDATE`,
      [requireTenantId(tenantId)],
    );
    return rows[0] ?? null;
  }

  /** Inserts with this slug unless any unique key (slug, organization, personal owner) is taken: then null. */
  async insertUnlessTaken(uow: UnitOfWork, values: TenantValues, slug: string): Promise<InsertedTenant | null> {
    const rows: InsertedTenant[] = await this.manager(uow).query(
      `INSERT INTO tenants (name, slug, clerk_org_id, personal_owner_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
       ${RETURNING}`,
      [values.name, slug, values.clerkOrgId ?? null, values.personalOwnerId ?? null],
    );
    return rows[0] ?? null;
  }

  /** The tenant mirroring a Clerk organization, row-locked for the caller's transaction. */
  async lockByOrganization(uow: UnitOfWork, clerkOrgId: string): Promise<InsertedTenant | null> {
    const rows: InsertedTenant[] = await this.manager(uow).query(
      `SELECT id, name, slug, created_at AS "createdAt", personal_owner_id AS "personalOwnerId"
         FROM tenants WHERE clerk_org_id = $1 FOR UPDATE`,
      [clerkOrgId],
    );
    return rows[0] ?? null;
  }

  /** The user's personal tenant, or null. */
  byPersonalOwner(userId: string, uow?: UnitOfWork): Promise<Tenant | null> {
    return this.manager(uow).findOneBy(Tenant, { personalOwnerId: userId });
  }

  /** The tenant of a Clerk organization, or null (not locked). */
  byOrganization(clerkOrgId: string, uow?: UnitOfWork): Promise<Tenant | null> {
    return this.manager(uow).findOneBy(Tenant, { clerkOrgId });
  }

  async rename(uow: UnitOfWork, tenantId: string, name: string): Promise<InsertedTenant> {
    const [rows] = await this.manager(uow).query(
      `UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1 ${RETURNING}`,
      [requireTenantId(tenantId), name],
    );
    return (rows as InsertedTenant[])[0];
  }

  /** True when another tenant has this slug. */
  async slugTakenByOther(uow: UnitOfWork, slug: string, tenantId: string): Promise<boolean> {
    const rows: unknown[] = await this.manager(uow).query(`SELECT 1 FROM tenants WHERE slug = $1 AND id <> $2`, [
      slug,
      requireTenantId(tenantId),
    ]);
    return rows.length > 0;
  }

  async setNameAndSlug(uow: UnitOfWork, tenantId: string, name: string, slug: string): Promise<void> {
    await this.manager(uow).query(`UPDATE tenants SET name = $2, slug = $3, updated_at = now() WHERE id = $1`, [
      requireTenantId(tenantId),
      name,
      slug,
    ]);
  }

  /** Deletes the tenant; its memberships go with it (ON DELETE CASCADE). */
  async delete(uow: UnitOfWork, tenantId: string): Promise<void> {
    await this.manager(uow).query(`DELETE FROM tenants WHERE id = $1`, [requireTenantId(tenantId)]);
  }

  async budgetOf(tenantId: string, uow?: UnitOfWork): Promise<TenantBudgetRow | null> {
    const rows: TenantBudgetRow[] = await this.manager(uow).query(
      `SELECT budget_usd, budget_period FROM tenants WHERE id = $1`,
      [requireTenantId(tenantId)],
    );
    return rows[0] ?? null;
  }

  async setBudget(uow: UnitOfWork, tenantId: string, budgetUsd: number | null, period: QuotaPeriod): Promise<void> {
    await this.manager(uow).query(
      `UPDATE tenants SET budget_usd = $2, budget_period = $3, updated_at = now() WHERE id = $1`,
      [requireTenantId(tenantId), budgetUsd, period],
    );
  }
}
