import { ApiProperty } from '@nestjs/swagger';
import type { UsageGroup } from './usage-query.dto';

export class UsageTotalsDto {
  @ApiProperty() requests: number;
  @ApiProperty() prompt_tokens: number;
  @ApiProperty() completion_tokens: number;
  @ApiProperty() total_tokens: number;
  @ApiProperty({ description: 'USD credits as reported by OpenRouter' }) cost: number;
}

export class UsageRowDto extends UsageTotalsDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The day (YYYY-MM-DD, UTC), API key id, user id or model the row adds up',
  })
  key: string | null;
}

export class UsageReportDto {
  @ApiProperty({ type: [UsageRowDto] }) data: UsageRowDto[];
  @ApiProperty({ type: UsageTotalsDto }) totals: UsageTotalsDto;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ enum: ['day', 'api_key', 'user', 'model'] }) group_by: UsageGroup;
}
