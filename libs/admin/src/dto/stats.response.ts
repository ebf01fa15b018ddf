import { ApiProperty } from '@nestjs/swagger';

export class PlatformStatsDto {
  @ApiProperty({ description: 'Every user row (active, pending and deactivated)' }) users: number;
  @ApiProperty() tenants: number;
  @ApiProperty({ description: 'Tenant API keys usable now (active, not revoked, not expired)' })
  api_keys_active: number;
  @ApiProperty({ description: "Users' OpenRouter keys in use" }) openrouter_keys_active: number;
  @ApiProperty({ description: 'Of those, keys that are the result of an automatic renewal' })
  openrouter_keys_auto_renewed: number;
  @ApiProperty({ description: 'Automatic renewals (audit events) in the last 24 hours' }) renewals_last_24h: number;
  @ApiProperty({ description: 'Failed provisionings, refreshes and renewals (audit events) in the last 24 hours' })
  provisioning_failures_last_24h: number;
  @ApiProperty({ type: () => [TenantSpendDto], description: 'Tenants with the largest recorded spend (top 10)' })
  spend_by_tenant: TenantSpendDto[];
  @ApiProperty({ type: () => [KeyNearLimitDto], description: "Users' OpenRouter keys with the least left (top 10)" })
  keys_closest_to_limit: KeyNearLimitDto[];
}

export class TenantSpendDto {
  @ApiProperty() tenant_id: string;
  @ApiProperty({ type: String, nullable: true, description: 'null once the tenant is deleted (usage outlives it)' })
  name: string | null;
  @ApiProperty({ type: String, nullable: true }) slug: string | null;
  @ApiProperty({ description: 'Gateway requests recorded' }) requests: number;
  @ApiProperty({ description: 'USD, summed from the recorded usage cost' }) cost: number;
}

export class KeyNearLimitDto {
  @ApiProperty() user_id: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'sk-or-v1-abc…1c96' }) label: string | null;
  @ApiProperty({ description: 'USD' }) limit: number;
  @ApiProperty({ description: 'USD spent' }) usage: number;
  @ApiProperty({ description: 'USD left under the limit' }) limit_remaining: number;
  @ApiProperty({
    enum: ['openrouter', 'recorded'],
    description: "OpenRouter's figure (cached briefly) or, until known, the cost this service recorded",
  })
  source: 'openrouter' | 'recorded';
}
