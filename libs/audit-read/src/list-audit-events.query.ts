import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_ACTIONS } from '#libs/audit';

/** `?tenant_id=` (empty) means no filter, as a form or a query builder may send it. */
const emptyToUndefined = ({ value, obj, key }: { value: unknown; obj: Record<string, unknown>; key: string }) =>
  obj?.[key] === '' ? undefined : value;

export const AUDIT_PAGE_MAX = 200;
export const AUDIT_PAGE_DEFAULT = 50;

/** `?limit=&cursor=&action=` of the tenant's audit trail. */
export class ListAuditEventsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: AUDIT_PAGE_DEFAULT })
  @Transform(emptyToUndefined)
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed' })
  cursor?: string;

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
