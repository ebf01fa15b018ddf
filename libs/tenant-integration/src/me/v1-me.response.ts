import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_SCOPES, ApiKeyScope } from '#libs/api-keys';

export class V1TenantDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "USD all the tenant's keys together may spend per budget_period",
  })
  budget_usd: number | null;
  @ApiProperty({ enum: ['day', 'month', 'total'] }) budget_period: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'USD its keys spent in the current budget period (at most a second old; null while unavailable)',
  })
  spent_usd: number | null;
}

export class V1ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() prefix: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: ApiKeyScope[];
  @ApiProperty() rate_limit_per_minute: number;
  @ApiProperty({ type: Number, nullable: true }) token_quota: number | null;
  @ApiProperty({ enum: ['day', 'month', 'total'], nullable: true }) quota_period: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Tokens used in the current quota period (at most a second old; null while the counters are unavailable)',
  })
  tokens_used: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'USD per budget_period; null: no budget' }) budget_usd:
    number | null;
  @ApiProperty({ enum: ['day', 'month', 'total'] }) budget_period: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'USD spent in the current budget period (at most a second old; null while unavailable)',
  })
  spent_usd: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at: string | null;
}

export class V1UserRefDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
}

export class V1MeResponseDto {
  @ApiProperty({ type: V1TenantDto }) tenant: V1TenantDto;
  @ApiProperty({ type: V1ApiKeyDto }) api_key: V1ApiKeyDto;
  @ApiProperty({ type: V1UserRefDto, nullable: true, description: 'The member the key acts as' })
  user: V1UserRefDto | null;
}
