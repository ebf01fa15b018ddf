import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, Max, Min, ValidateIf } from 'class-validator';
import { MAX_USER_BUDGET_USD } from '#libs/openrouter';

/** `PATCH /api/admin/users/{userId}`: what a platform admin may change about a user. */
export class UpdateAdminUserDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: MAX_USER_BUDGET_USD,
    example: 25,
    description: "The user's OpenRouter budget in USD per period, across all their keys; null: back to the default",
  })
  @ValidateIf((o: UpdateAdminUserDto) => o.openrouter_budget_usd !== null)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(MAX_USER_BUDGET_USD)
  openrouter_budget_usd: number | null;
}

export class AdminUserBudgetDto {
  @ApiProperty({ example: 15, description: 'USD per period' }) budget: number;
  @ApiProperty({ enum: ['none', 'daily', 'weekly', 'monthly'] }) period: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'USD spent in the period by all the keys; null when unknown',
  })
  spent: number | null;
  @ApiProperty({ type: Number, nullable: true }) remaining: number | null;
  @ApiProperty({ type: String, nullable: true }) period_started_at: string | null;
}

/** A user's OpenRouter budget as a platform admin sees it after changing it. */
export class AdminUserBudgetResponseDto {
  @ApiProperty() user_id: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "The user's own budget (USD per period); null: the default",
  })
  openrouter_budget_usd: number | null;
  @ApiProperty({ type: AdminUserBudgetDto }) openrouter_budget: AdminUserBudgetDto;
  @ApiProperty({ type: Number, nullable: true, description: "The current key's limit upstream; null without a key" })
  openrouter_key_limit: number | null;
}
