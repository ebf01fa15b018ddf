import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsEmail, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** An empty query value (`?email=`) means no filter. */
const emptyToUndefined = ({ value, obj, key }: { value: unknown; obj: Record<string, unknown>; key: string }) =>
  obj?.[key] === '' ? undefined : value;

export const ADMIN_PAGE_DEFAULT = 50;
export const ADMIN_PAGE_MAX = 200;

export class AdminPageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: ADMIN_PAGE_MAX, default: ADMIN_PAGE_DEFAULT })
  @Transform(emptyToUndefined)
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(ADMIN_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed' })
  cursor?: string;
}

export class AdminUsersQuery extends AdminPageQuery {
  @ApiPropertyOptional({ description: 'Exact email, case-insensitive' })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsEmail()
  @MaxLength(320)
  email?: string;
}

export class ReconcileRequestDto {
  @ApiPropertyOptional({ default: false, description: 'List the orphaned keys without deleting them' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 86_400, description: 'Leave keys younger than this alone (default 600)' })
  @IsOptional()
  @Transform(({ value }) => (value === null ? undefined : value))
  @IsInt()
  @Min(0)
  @Max(86_400)
  grace_seconds?: number;
}
