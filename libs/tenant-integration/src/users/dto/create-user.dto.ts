import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, MaxLength } from 'class-validator';
import { TENANT_ROLES } from '#libs/tenants';

/** Any role: whether the key's user may grant it is judged at the request (only owners grant owner). */
export const GRANTABLE_ROLES = TENANT_ROLES;

export class CreateUserDto {
  @ApiProperty({
    example: 'ada@example.com',
    description: 'An unknown email becomes a pending user who joins at first sign-in',
  })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiPropertyOptional({ enum: GRANTABLE_ROLES, default: 'member' })
  @IsOptional()
  @IsIn(GRANTABLE_ROLES)
  role?: (typeof GRANTABLE_ROLES)[number];
}
