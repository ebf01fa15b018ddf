import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { TENANT_ROLES, TenantRole } from '../../roles';
import { trimString } from '../../tenant-crud/dto/create-tenant.dto';

export class AddMemberDto {
  @ApiPropertyOptional({
    description: 'Email of the user; an unknown email becomes a pending user who joins at first sign-in',
    example: 'ada@example.com',
  })
  @ValidateIf((o: AddMemberDto) => o.user_id === undefined)
  @Transform(trimString)
  @IsEmail()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Id of an existing user (instead of email)' })
  @ValidateIf((o: AddMemberDto) => o.email === undefined)
  @IsUUID()
  user_id?: string;

  @ApiPropertyOptional({ enum: TENANT_ROLES, default: 'member' })
  @IsOptional()
  @IsIn(TENANT_ROLES)
  role?: TenantRole;
}
