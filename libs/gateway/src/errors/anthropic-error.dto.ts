import { ApiProperty } from '@nestjs/swagger';

export class AnthropicErrorDetailDto {
  @ApiProperty({
    example: 'rate_limit_error',
    enum: [
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'api_error',
    ],
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
