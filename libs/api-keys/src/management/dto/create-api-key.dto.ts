import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { IsIsoDateTime } from '#libs/common';
import { API_KEY_SCOPES, ApiKeyScope } from '../../scopes';
import { QUOTA_PERIODS, QuotaPeriod } from '../../api-key.entity';

export const trimString = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
export const MAX_RATE_LIMIT = 10_000_000;
export const MAX_TOKEN_QUOTA = 1_000_000_000_000_000;
export const MAX_BUDGET_USD = 1_000_000_000;
/** Optional, but never null (a field that has no "unset" meaning). */
export const presentNotNull = (_: object, value: unknown) => value !== undefined;

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'production server' })
  @Transform(trimString)
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The key acts as its creator: omit, or give your own id (any other id is a 403)',
  })
  @IsOptional()
  @IsUUID()
  user_id?: string;

  @ApiPropertyOptional({ enum: API_KEY_SCOPES, isArray: true, description: 'Default: all scopes' })
  @ValidateIf(presentNotNull)
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @IsIn(API_KEY_SCOPES, { each: true, message: `scopes must contain only ${API_KEY_SCOPES.join(', ')}` })
  scopes?: ApiKeyScope[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RATE_LIMIT, description: 'Default: API_KEY_DEFAULT_RATE_LIMIT (60)' })
  @ValidateIf(presentNotNull)
  @IsInt()
  @Min(1)
  @Max(MAX_RATE_LIMIT)
  rate_limit_per_minute?: number;

  @ApiPropertyOptional({
    nullable: true,
    minimum: 0,
    description: 'Tokens the key may use per quota_period; null: unlimited',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKEN_QUOTA)
  token_quota?: number | null;

  @ApiPropertyOptional({ enum: QUOTA_PERIODS, nullable: true, description: "Default with a quota: 'total'" })
  @IsOptional()
  @IsIn(QUOTA_PERIODS)
  quota_period?: QuotaPeriod | null;

  @ApiPropertyOptional({
    nullable: true,
    minimum: 0,
    maximum: MAX_BUDGET_USD,
    description: 'USD the key may spend per budget_period (OpenRouter usage.cost); null: no budget',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(MAX_BUDGET_USD)
  budget_usd?: number | null;

  @ApiPropertyOptional({ enum: QUOTA_PERIODS, description: "Default: 'month'" })
  @ValidateIf(presentNotNull)
  @IsIn(QUOTA_PERIODS)
  budget_period?: QuotaPeriod;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'In the future; null: never expires' })
  @IsOptional()
  @IsIsoDateTime()
  expires_at?: string | null;
}
