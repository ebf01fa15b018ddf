import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { AUDIT_ACTIONS } from '#libs/audit';
import { emptyToUndefined, KeysetPageQuery } from '#libs/common';

/** `?limit=&cursor=&action=` of the tenant's audit trail. */
export class ListAuditEventsQuery extends KeysetPageQuery {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: string;
}

/** The platform admins' view adds `tenant_id`. */
export class AdminListAuditEventsQuery extends ListAuditEventsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUUID()
  tenant_id?: string;
}
