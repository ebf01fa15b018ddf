import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, MaxLength } from 'class-validator';

/** Roles an API key may grant: the owner role is for owners signed in with Clerk. */
export const GRANTABLE_ROLES = ['admin', 'member'] as const;

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
