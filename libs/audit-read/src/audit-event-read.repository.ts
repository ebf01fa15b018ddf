import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEvent } from '#libs/audit';
import { CURSOR_AT_SQL, KeysetPosition } from '#libs/common';
import { TableRepository, TenantScope, UnitOfWork } from '#libs/database';

/** Which events a page holds: newest first, after `after`, at most `take`, of one action when `action` is given. */
export interface AuditEventSlice {
  action?: string;
  after: KeysetPosition | null;
  take: number;
}

/** An event and its keyset position (`created_at` at full precision). */
export interface ListedAuditEvent {
  id: string;
  cursor_at: string;
  event: AuditEvent;
}

/** One tenant's audit trail; every statement names the tenant. */
export interface TenantAuditEvents {
  readonly tenantId: string;
  page(slice: AuditEventSlice, uow?: UnitOfWork): Promise<ListedAuditEvent[]>;
}

/**
 * Reads of `audit_events` (written by libs/audit, which owns the table; this lib only reads it): a tenant's trail
 * through `forTenant`, the platform's through the named cross-tenant method.
 */
@Injectable()
export class AuditEventReadRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  forTenant(tenantId: string): TenantAuditEvents {
    const scope = TenantScope.of(tenantId);
    return {
      tenantId: scope.tenantId,
      page: (slice, uow) => this.select(scope, slice, uow),
    };
  }

  /** Cross-tenant: the platform audit trail, every tenant's events and those of no tenant (platform administration). */
  pageAcrossTenants(slice: AuditEventSlice, uow?: UnitOfWork): Promise<ListedAuditEvent[]> {
    return this.select(null, slice, uow);
  }

  private async select(
    scope: TenantScope | null,
    slice: AuditEventSlice,
    uow?: UnitOfWork,
  ): Promise<ListedAuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (scope) where.push(`tenant_id = ${param(scope.tenantId)}::uuid`);
    if (slice.action) where.push(`action = ${param(slice.action)}`);
    if (slice.after) {
      where.push(`(created_at, id) < (${param(slice.after.at)}::timestamptz, ${param(slice.after.id)}::uuid)`);
    }
    const rows: (RawAuditRow & { cursor_at: string })[] = await this.manager(uow).query(
      `SELECT id, action, actor_type, actor_id, tenant_id, target_type, target_id, metadata, request_id, created_at,
              ${CURSOR_AT_SQL('created_at')} AS cursor_at
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ${param(slice.take)}`,
      params,
    );
    return rows.map((r) => ({ id: r.id, cursor_at: r.cursor_at, event: fromRaw(r) }));
  }
}

interface RawAuditRow {
  id: string;
  action: string;
  actor_type: AuditEvent['actorType'];
  actor_id: string | null;
  tenant_id: string | null;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown> | string | null;
  request_id: string | null;
  created_at: Date | string;
}

function fromRaw(r: RawAuditRow): AuditEvent {
  return Object.assign(new AuditEvent(), {
    id: r.id,
    action: r.action,
    actorType: r.actor_type,
    actorId: r.actor_id,
    tenantId: r.tenant_id,
    targetType: r.target_type,
    targetId: r.target_id,
    metadata: typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, unknown>) : (r.metadata ?? {}),
    requestId: r.request_id,
    createdAt: new Date(r.created_at),
  });
}
