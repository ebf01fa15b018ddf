import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CURSOR_AT_SQL, decodeKeyset, keysetPage, pageLimit, requireTenantId } from '#libs/common';
import { AuditEvent } from '#libs/audit';
import { AuditEventPageDto, toAuditEventDto } from './audit-event.response';

export interface AuditListOptions {
  limit?: number;
  cursor?: string;
  action?: string;
}

/** Reads the audit trail newest first, a page at a time (keyset pagination on created_at, id). */
@Injectable()
export class AuditQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One tenant's events; the tenant id is required. */
  forTenant(tenantId: string, opts: AuditListOptions): Promise<AuditEventPageDto> {
    return this.page(requireTenantId(tenantId), opts);
  }

  /** Every event, or one tenant's when `tenantId` is given (platform administration). */
  all(tenantId: string | undefined, opts: AuditListOptions): Promise<AuditEventPageDto> {
    return this.page(tenantId, opts);
  }

  private async page(tenantId: string | undefined, opts: AuditListOptions): Promise<AuditEventPageDto> {
    const limit = pageLimit(opts.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (tenantId) where.push(`tenant_id = ${param(tenantId)}::uuid`);
    if (opts.action) where.push(`action = ${param(opts.action)}`);
    if (opts.cursor) {
      const c = decodeKeyset(opts.cursor);
      where.push(`(created_at, id) < (${param(c.at)}::timestamptz, ${param(c.id)}::uuid)`);
    }
    const rows: (RawAuditRow & { cursor_at: string })[] = await this.dataSource.query(
      `SELECT id, action, actor_type, actor_id, tenant_id, target_type, target_id, metadata, request_id, created_at,
              ${CURSOR_AT_SQL('created_at')} AS cursor_at
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    return keysetPage(rows, limit, (r) => toAuditEventDto(fromRaw(r)));
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
