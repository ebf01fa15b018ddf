import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { emptyToUndefined, KeysetPageQuery } from '#libs/common';

/** `?limit=&cursor=` of the admin lists. */
export class AdminPageQuery extends KeysetPageQuery {}

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
