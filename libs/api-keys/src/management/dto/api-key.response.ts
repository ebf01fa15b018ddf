import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_KEY_SCOPES, ApiKeyScope } from '../../scopes';
import { QUOTA_PERIODS, QuotaPeriod } from '../../api-key.entity';
import type { ApiKeyStatus } from '../../api-key-state';

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'umk_3Xk9fQ2a', description: 'Public start of the key, for recognising it' }) prefix: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: ApiKeyScope[];
  @ApiProperty() rate_limit_per_minute: number;
  @ApiProperty({ type: Number, nullable: true }) token_quota: number | null;
  @ApiProperty({ enum: QUOTA_PERIODS, nullable: true }) quota_period: QuotaPeriod | null;
  @ApiProperty() tokens_used: number;
  @ApiProperty({ type: Number, nullable: true, description: 'USD per budget_period; null: no budget' }) budget_usd:
    number | null;
  @ApiProperty({ enum: QUOTA_PERIODS }) budget_period: QuotaPeriod;
  @ApiProperty({ description: 'USD spent in the current budget period (OpenRouter usage.cost)' }) spent_usd: number;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The member the key acts as' }) user_id:
    string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Exact to within a minute' })
  last_used_at: string | null;
  @ApiProperty({ enum: ['active', 'rotating', 'disabled', 'expired', 'revoked'] }) status: ApiKeyStatus;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key stops (stopped) working; in the future during a rotation grace period',
  })
  revoked_at: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The key this one replaced by rotation' })
  rotated_from_id: string | null;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiPropertyOptional({ description: 'The plaintext key: shown in this response only, never again' }) key: string;
}
