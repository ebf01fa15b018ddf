import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '#libs/common';
import { AuditEvent } from '#libs/audit';
import { AuditEventPageDto, toAuditEventDto } from './audit-event.response';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from './list-audit-events.query';

export interface AuditListOptions {
  limit?: number;
  cursor?: string;
  action?: string;
}

interface CursorPosition {
  /** created_at with its microseconds (a JS Date would lose them and skip or repeat rows). */
  at: string;
  id: string;
}

/** Reads the audit trail newest first, a page at a time (keyset pagination on created_at, id). */
@Injectable()
export class AuditQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One tenant's events; the tenant id is required. */
  forTenant(tenantId: string, opts: AuditListOptions): Promise<AuditEventPageDto> {
    if (!tenantId) throw new Error('AuditQueries.forTenant needs a tenant id');
    return this.page(tenantId, opts);
  }

  /** Every event, or one tenant's when `tenantId` is given (platform administration). */
  all(tenantId: string | undefined, opts: AuditListOptions): Promise<AuditEventPageDto> {
    return this.page(tenantId, opts);
  }

  private async page(tenantId: string | undefined, opts: AuditListOptions): Promise<AuditEventPageDto> {
    const limit = Math.min(Math.max(opts.limit ?? AUDIT_PAGE_DEFAULT, 1), AUDIT_PAGE_MAX);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (tenantId) where.push(`tenant_id = ${param(tenantId)}::uuid`);
    if (opts.action) where.push(`action = ${param(opts.action)}`);
    if (opts.cursor) {
      const c = decodeCursor(opts.cursor);
      where.push(`(created_at, id) < (${param(c.at)}::timestamptz, ${param(c.id)}::uuid)`);
    }
    const rows: (RawAuditRow & { cursor_at: string })[] = await this.dataSource.query(
      `SELECT id, action, actor_type, actor_id, tenant_id, target_type, target_id, metadata, request_id, created_at,
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const more = rows.length > limit;
    const pageRows = more ? rows.slice(0, limit) : rows;
    const last = pageRows.at(-1);
    return {
      data: pageRows.map((r) => toAuditEventDto(fromRaw(r))),
      next_cursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
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

function encodeCursor(c: CursorPosition): string {
  return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): CursorPosition {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const validAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at ?? '');
  const validId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id ?? '');
  if (!validAt || !validId || rest.length)
    throw new AppError('invalid_cursor', 'cursor is malformed', { fields: ['cursor'] });
  return { at, id };
}
