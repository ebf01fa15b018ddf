import { ApiProperty } from '@nestjs/swagger';

export class AdminTenantDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ type: String, nullable: true, description: 'Set when the tenant mirrors a Clerk organization' })
  clerk_org_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: "Set for a user's personal tenant" }) personal_owner_id:
    string | null;
  @ApiProperty() members: number;
  @ApiProperty() api_keys_active: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class AdminTenantPageDto {
  @ApiProperty({ type: [AdminTenantDto] }) data: AdminTenantDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}
