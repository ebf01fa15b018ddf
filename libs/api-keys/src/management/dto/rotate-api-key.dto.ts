import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';
import { presentNotNull } from './create-api-key.dto';

export const MAX_GRACE_PERIOD_SECONDS = 604_800;

export class RotateApiKeyDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_PERIOD_SECONDS,
    default: 0,
    description: 'How long the old key keeps working',
  })
  @ValidateIf(presentNotNull)
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_PERIOD_SECONDS)
  grace_period_seconds?: number;
}
