import { ApiProperty } from '@nestjs/swagger';

export class AdminUserTenantDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member'] }) role: string;
}

/** The user's OpenRouter key as operators see it: state and masked label, never the key. */
export class AdminOpenRouterKeyDto {
  @ApiProperty({ enum: ['none', 'active', 'provisioning_failed', 'disabled'] }) status: string;
  @ApiProperty({ type: String, nullable: true, example: 'sk-or-v1-abc…1c96' }) label: string | null;
  @ApiProperty({ type: String, nullable: true, description: "OpenRouter's id of the key (not a secret)" }) hash:
    string | null;
  @ApiProperty({ type: Number, nullable: true }) limit: number | null;
  @ApiProperty() auto_renewed: boolean;
  @ApiProperty() renewal_count: number;
  @ApiProperty({ type: String, nullable: true }) last_renewal_at: string | null;
  @ApiProperty({ type: String, nullable: true }) last_error_code: string | null;
  @ApiProperty({ type: String, nullable: true }) created_at: string | null;
}

export class AdminUserDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: String, nullable: true }) clerk_user_id: string | null;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) first_name: string | null;
  @ApiProperty({ type: String, nullable: true }) last_name: string | null;
  @ApiProperty({ enum: ['active', 'pending', 'deactivated'] }) status: string;
  @ApiProperty({ type: AdminOpenRouterKeyDto, nullable: true }) openrouter_key: AdminOpenRouterKeyDto | null;
  @ApiProperty({ type: [AdminUserTenantDto] }) tenants: AdminUserTenantDto[];
  @ApiProperty({ type: String, nullable: true }) last_login_at: string | null;
  @ApiProperty() login_count: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class AdminUserPageDto {
  @ApiProperty({ type: [AdminUserDto] }) data: AdminUserDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}
