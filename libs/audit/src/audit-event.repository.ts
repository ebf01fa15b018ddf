import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TableRepository, TenantScope, type UnitOfWork } from '#libs/database';
import { AuditEvent } from './audit-event.entity';

/** An audit row as written: everything but the id and the time, which the database sets. */
export type NewAuditEvent = Omit<AuditEvent, 'id' | 'createdAt' | 'tenantId'>;

/**
 * Writes to `audit_events` (the trail is read by libs/audit-read). A tenant's events go through
 * `forTenant(tenantId)`, which writes the scope's tenant; events of no tenant are the one named method.
 */
@Injectable()
export class AuditEventRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  forTenant(tenantId: string): TenantAuditEvents {
    return new TenantAuditEvents(TenantScope.of(tenantId), (uow) => this.manager(uow));
  }

  /** Cross-tenant: events that belong to no tenant (a user deactivated, a user's OpenRouter key), tenant_id null. */
  async insertWithoutTenant(event: NewAuditEvent, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).insert(AuditEvent, { ...event, metadata: event.metadata as never, tenantId: null });
  }
}

/** One tenant's audit events: every row written names the scope's tenant. */
export class TenantAuditEvents {
  constructor(
    private readonly scope: TenantScope,
    private readonly manager: (uow?: UnitOfWork) => EntityManager,
  ) {}

  async insert(event: NewAuditEvent, uow?: UnitOfWork): Promise<void> {
    await this.manager(uow).insert(AuditEvent, {
      ...event,
      metadata: event.metadata as never,
      tenantId: this.scope.tenantId,
    });
  }
}
