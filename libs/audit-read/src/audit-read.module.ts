import { Module } from '@nestjs/common';
import { TenantsModule } from '#libs/tenants';
import { AuditEventReadRepository } from './audit-event-read.repository';
import { AuditQueries } from './audit-queries.service';
import { TenantAuditController } from './tenant-audit.controller';

/**
 * The read side of the audit trail. Kept out of the global AuditModule (and out of libs/audit's
 * index) because it looks at memberships, while tenants write audit events: importing it from the
 * index would make a require cycle between the two libraries.
 */
@Module({
  imports: [TenantsModule],
  controllers: [TenantAuditController],
  providers: [AuditEventReadRepository, AuditQueries],
  exports: [AuditQueries],
})
export class AuditReadModule {}
