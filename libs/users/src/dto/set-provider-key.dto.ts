import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class SetProviderKeyDto {
  @ApiProperty({ description: 'The API key for the provider', minLength: 8, maxLength: 512 })
  @IsString()
  @Length(8, 512)
  @Matches(/^\S+$/, { message: 'api_key must not contain whitespace' })
  api_key: string;
}
