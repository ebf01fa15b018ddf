import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { IsIsoDateTime } from '#libs/common';
import { API_KEY_SCOPES, ApiKeyScope } from '../../scopes';
import { QUOTA_PERIODS, QuotaPeriod } from '../../api-key.entity';
import { MAX_BUDGET_USD, MAX_RATE_LIMIT, MAX_TOKEN_QUOTA, presentNotNull, trimString } from './create-api-key.dto';

/** Absent fields stay as they are; null clears the nullable ones (quota, budget, expiry). */
export class UpdateApiKeyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @ValidateIf(presentNotNull)
  @Transform(trimString)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ enum: API_KEY_SCOPES, isArray: true })
  @ValidateIf(presentNotNull)
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @IsIn(API_KEY_SCOPES, { each: true, message: `scopes must contain only ${API_KEY_SCOPES.join(', ')}` })
  scopes?: ApiKeyScope[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RATE_LIMIT })
  @ValidateIf(presentNotNull)
  @IsInt()
  @Min(1)
  @Max(MAX_RATE_LIMIT)
  rate_limit_per_minute?: number;

  @ApiPropertyOptional({ nullable: true, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKEN_QUOTA)
  token_quota?: number | null;

  @ApiPropertyOptional({ enum: QUOTA_PERIODS, nullable: true })
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

  @ApiPropertyOptional({ enum: QUOTA_PERIODS })
  @ValidateIf(presentNotNull)
  @IsIn(QUOTA_PERIODS)
  budget_period?: QuotaPeriod;

  @ApiPropertyOptional({ description: 'false disables the key (403 api_key_disabled) until set true again' })
  @ValidateIf(presentNotNull)
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ format: 'date-time', nullable: true })
  @IsOptional()
  @IsIsoDateTime()
  expires_at?: string | null;
}
