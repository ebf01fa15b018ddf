import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsIsoDateTime } from '#libs/common';

export const USAGE_GROUPS = ['day', 'api_key', 'user', 'model'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];
export const USAGE_FORMATS = ['json', 'csv'] as const;
export type UsageFormat = (typeof USAGE_FORMATS)[number];

/** Query of GET /api/v1/usage and GET /api/tenants/{tenantId}/usage. */
export class UsageQueryDto {
  @ApiPropertyOptional({
    description: 'Start (inclusive), ISO 8601 date or date-time; default 30 days before `to`',
    example: '2025-06-01',
  })
  @IsOptional()
  @IsIsoDateTime({ dateOnly: true })
  from?: string;

  @ApiPropertyOptional({
    description: 'End, ISO 8601; a date-time is exclusive, a bare date includes that whole day; default now',
    example: '2025-06-30',
  })
  @IsOptional()
  @IsIsoDateTime({ dateOnly: true })
  to?: string;

  @ApiPropertyOptional({ enum: USAGE_GROUPS, default: 'day' })
  @IsOptional()
  @IsIn(USAGE_GROUPS, { message: `group_by must be one of ${USAGE_GROUPS.join(', ')}` })
  group_by?: UsageGroup;

  @ApiPropertyOptional({
    enum: USAGE_FORMATS,
    description: 'csv answers text/csv (a header row, then one row per group); default: as `Accept` asks, else json',
  })
  @IsOptional()
  @IsIn(USAGE_FORMATS, { message: `format must be one of ${USAGE_FORMATS.join(', ')}` })
  format?: UsageFormat;
}
