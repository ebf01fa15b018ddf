import { ApiProperty } from '@nestjs/swagger';
import { TENANT_ROLES, TenantRole } from '../../roles';

export class MemberResponseDto {
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ enum: TENANT_ROLES }) role: TenantRole;
  @ApiProperty({ format: 'date-time', description: 'When the membership was created' }) joined_at: string;
  @ApiProperty({
    enum: ['active', 'pending', 'deactivated'],
    description: 'pending: invited by email, not signed in yet',
  })
  status: string;
}
