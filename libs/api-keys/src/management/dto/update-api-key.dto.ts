import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
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
import { MAX_RATE_LIMIT, MAX_TOKEN_QUOTA, presentNotNull, trimString } from './create-api-key.dto';

/** Absent fields stay as they are; null clears the nullable ones (quota, expiry). */
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

  @ApiPropertyOptional({ description: 'false disables the key (403 api_key_disabled) until set true again' })
  @ValidateIf(presentNotNull)
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ format: 'date-time', nullable: true })
  @IsOptional()
  @IsIsoDateTime()
  expires_at?: string | null;
}
