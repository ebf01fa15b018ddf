import { ApiProperty } from '@nestjs/swagger';
import { QUOTA_PERIODS, type QuotaPeriod } from '#libs/quota';
import { TENANT_ROLES, TenantRole } from '../../roles';

export class TenantResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: TENANT_ROLES, description: "The caller's role in the tenant" }) role: TenantRole;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** One tenant, with its budget over all its keys. */
export class TenantDetailResponseDto extends TenantResponseDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "USD all the tenant's keys together may spend per budget_period",
  })
  budget_usd: number | null;
  @ApiProperty({ enum: QUOTA_PERIODS }) budget_period: QuotaPeriod;
  @ApiProperty({ description: 'USD spent by all its keys in the current budget period (OpenRouter usage.cost)' })
  spent_usd: number;
}
