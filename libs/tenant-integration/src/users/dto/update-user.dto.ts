import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { GRANTABLE_ROLES } from './create-user.dto';

export class UpdateUserDto {
  @ApiProperty({ enum: GRANTABLE_ROLES })
  @IsIn(GRANTABLE_ROLES)
  role: (typeof GRANTABLE_ROLES)[number];
}
