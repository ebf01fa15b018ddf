import { Injectable } from '@nestjs/common';
import { decodeKeyset, keysetPage, pageLimit } from '#libs/common';
import { AuditEventPageDto, toAuditEventDto } from './audit-event.response';
import { AuditEventReadRepository, AuditEventSlice, ListedAuditEvent } from './audit-event-read.repository';

export interface AuditListOptions {
  limit?: number;
  cursor?: string;
  action?: string;
}

/** Reads the audit trail newest first, a page at a time (keyset pagination on created_at, id). */
@Injectable()
export class AuditQueries {
  constructor(private readonly events: AuditEventReadRepository) {}

  /** One tenant's events; the tenant id is required. */
  async forTenant(tenantId: string, opts: AuditListOptions): Promise<AuditEventPageDto> {
    const view = this.events.forTenant(tenantId);
    return this.page(opts, (slice) => view.page(slice));
  }

  /** Every event, or one tenant's when `tenantId` is given (platform administration). */
  all(tenantId: string | undefined, opts: AuditListOptions): Promise<AuditEventPageDto> {
    if (tenantId) return this.forTenant(tenantId, opts);
    return this.page(opts, (slice) => this.events.pageAcrossTenants(slice));
  }

  private async page(
    opts: AuditListOptions,
    read: (slice: AuditEventSlice) => Promise<ListedAuditEvent[]>,
  ): Promise<AuditEventPageDto> {
    const limit = pageLimit(opts.limit);
    const after = opts.cursor ? decodeKeyset(opts.cursor) : null;
    const rows = await read({ action: opts.action, after, take: limit + 1 });
    return keysetPage(rows, limit, (r) => toAuditEventDto(r.event));
  }
}
