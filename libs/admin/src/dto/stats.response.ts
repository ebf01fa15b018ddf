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
}
