import { ApiProperty } from '@nestjs/swagger';
import { TENANT_ROLES, TenantRole } from '#libs/tenants';

export class IntegrationUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) first_name: string | null;
  @ApiProperty({ type: String, nullable: true }) last_name: string | null;
  @ApiProperty({ enum: TENANT_ROLES, description: "Role in the key's tenant" }) role: TenantRole;
  @ApiProperty({ enum: ['active', 'pending', 'deactivated'] }) status: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_login_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class IntegrationUserPageDto {
  @ApiProperty({ type: [IntegrationUserDto] }) data: IntegrationUserDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  next_cursor: string | null;
}
