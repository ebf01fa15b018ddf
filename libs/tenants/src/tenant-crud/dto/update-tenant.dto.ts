import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsNumber, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { QUOTA_PERIODS, type QuotaPeriod } from '#libs/quota';
import { trimString } from './create-tenant.dto';

export const MAX_TENANT_BUDGET_USD = 1_000_000_000;
/** Optional, but never null (a field that has no "unset" meaning). */
const presentNotNull = (_: object, value: unknown) => value !== undefined;

/** Absent fields stay as they are. The name is for owners and admins, the budget for owners. */
export class UpdateTenantDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @ValidateIf(presentNotNull)
  @Transform(trimString)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({
    nullable: true,
    minimum: 0,
    maximum: MAX_TENANT_BUDGET_USD,
    description: "USD all the tenant's keys together may spend per budget_period (owner); null: no budget",
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(MAX_TENANT_BUDGET_USD)
  budget_usd?: number | null;

  @ApiPropertyOptional({ enum: QUOTA_PERIODS, description: "Default: 'month' (owner)" })
  @ValidateIf(presentNotNull)
  @IsIn(QUOTA_PERIODS)
  budget_period?: QuotaPeriod;
}
