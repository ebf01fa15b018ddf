import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
export const trimString = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateTenantDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Acme Inc.' })
  @Transform(trimString)
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({
    description: 'Lower-case letters, digits and hyphens; derived from the name when absent',
    example: 'acme',
    maxLength: 48,
  })
  @IsOptional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'slug must be 1-48 lower-case letters, digits or inner hyphens' })
  slug?: string;
}
