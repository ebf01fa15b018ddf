import { ApiProperty } from '@nestjs/swagger';
import { TENANT_ROLES, TenantRole } from '../../roles';

export class TenantResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: TENANT_ROLES, description: "The caller's role in the tenant" }) role: TenantRole;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}
