import { ApiProperty } from '@nestjs/swagger';
import { ANTHROPIC_ERROR_TYPES } from '#libs/common';

export class AnthropicErrorDetailDto {
  @ApiProperty({
    example: 'rate_limit_error',
    enum: ANTHROPIC_ERROR_TYPES,
  })
  type: string;
  @ApiProperty({ example: 'This API key has used its token quota (100000 tokens per month)' }) message: string;
  @ApiProperty({ example: 'quota_exceeded', description: 'Stable machine code, as on every other route' })
  code: string;
}

/** The error body of the Anthropic-compatible route (`/api/v1/messages`), as Anthropic's SDKs read it. */
export class AnthropicErrorDto {
  @ApiProperty({ enum: ['error'], example: 'error' }) type: 'error';
  @ApiProperty({ type: AnthropicErrorDetailDto }) error: AnthropicErrorDetailDto;
}
