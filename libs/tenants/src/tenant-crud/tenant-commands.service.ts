import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '#libs/audit';
import { AppError } from '#libs/common';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { lockTenant } from '../access/tenant-lock';
import { isUuid, requireTenantId } from '../access/tenant-scope';
import { TenantChangeHooks } from '../hooks/tenant-change.hooks';
import { slugify } from '../tenant-mapping.service';
import type { TenantView } from './tenant.mapper';

interface TenantRow {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
  personalOwnerId: string | null;
}

const RETURNING = `RETURNING id, name, slug, created_at AS "createdAt", personal_owner_id AS "personalOwnerId"`;

/** Creating, renaming and deleting tenants, each audited in its own transaction. */
@Injectable()
export class TenantCommands {
  private readonly logger = new Logger(TenantCommands.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly hooks: TenantChangeHooks,
    private readonly bus: InvalidationBus,
  ) {}

  /** A new tenant with the caller as its owner. An explicit slug already in use is a 409 `slug_taken`. */
  async create(ownerId: string, input: { name: string; slug?: string }, scope: AuditScope): Promise<TenantView> {
    if (input.slug && isUuid(input.slug))
      throw new AppError('invalid_slug', 'A slug must not look like a tenant id', { fields: ['slug'] });
    const created = await this.dataSource.transaction(async (m) => {
      const tenant = await this.insertTenant(m, input.name, input.slug);
      await m.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, [
        tenant.id,
        ownerId,
      ]);
      await this.audit.record(
        {
          action: 'tenant.created',
          ...scope,
          tenantId: tenant.id,
          target: { type: 'tenant', id: tenant.id },
          metadata: { name: tenant.name, slug: tenant.slug },
        },
        m,
      );
      return tenant;
    });
    await this.bus.publish(CacheTopic.user, ownerId); // the owner's cached tenant list
    return created;
  }

  async rename(tenantId: string, name: string, scope: AuditScope): Promise<TenantView> {
    requireTenantId(tenantId);
    const tenant = await this.dataSource.transaction(async (m) => {
      const before = await lockTenant(m, tenantId);
      const [rows] = await m.query(`UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1 ${RETURNING}`, [
        tenantId,
        name,
      ]);
      const updated = (rows as TenantRow[])[0];
      if (before.name !== name) {
        await this.audit.record(
          {
            action: 'tenant.updated',
            ...scope,
            tenantId,
            target: { type: 'tenant', id: tenantId },
            metadata: { name: { from: before.name, to: name } },
          },
          m,
        );
      }
      return updated;
    });
    await this.bus.publish(CacheTopic.tenant, tenantId); // cached contexts carry the tenant's name
    return tenant;
  }

  /**
   * Deletes the tenant with its memberships; capabilities on top (API keys) revoke what they hold in the
   * same transaction. A personal tenant cannot be deleted: it is the user's fallback workspace and would
   * only come back at the next login.
   */
  async delete(tenantId: string, scope: AuditScope): Promise<void> {
    requireTenantId(tenantId);
    const after = await this.dataSource.transaction(async (m) => {
      const tenant = await lockTenant(m, tenantId);
      if (tenant.personalOwnerId) throw new AppError('personal_tenant', 'A personal tenant cannot be deleted');
      const work = await this.hooks.tenantDeleting({ manager: m, tenantId, audit: scope });
      await this.audit.record(
        {
          action: 'tenant.deleted',
          ...scope,
          tenantId,
          target: { type: 'tenant', id: tenantId },
          metadata: { name: tenant.name, slug: tenant.slug },
        },
        m,
      );
      await m.query(`DELETE FROM tenants WHERE id = $1`, [tenantId]);
      return work;
    });
    await this.bus.publish(CacheTopic.tenant, tenantId);
    await this.afterCommit(() => TenantChangeHooks.runAll(after));
  }

  /** Inserts without aborting the transaction on a taken slug (ON CONFLICT), retrying derived slugs. */
  private async insertTenant(m: EntityManager, name: string, explicitSlug: string | undefined): Promise<TenantRow> {
    const base = explicitSlug ?? slugify(name);
    for (let attempt = 0; attempt < 6; attempt++) {
      const slug = attempt === 0 && !isUuid(base) ? base : `${base.slice(0, 41)}-${randomBytes(3).toString('hex')}`;
      const rows: TenantRow[] = await m.query(
        `INSERT INTO tenants (name, slug) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING ${RETURNING}`,
        [name, slug],
      );
      if (rows[0]) return rows[0];
      if (explicitSlug) throw new AppError('slug_taken', `The slug "${explicitSlug}" is already in use`);
    }
    throw new Error('Could not find a free slug');
  }

  private async afterCommit(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.logger.error({ err }, 'After-commit work of a tenant change failed');
    }
  }
}
