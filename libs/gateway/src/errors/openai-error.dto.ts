import { ApiProperty } from '@nestjs/swagger';
import { OPENAI_ERROR_TYPES } from '#libs/common';

export class OpenAiErrorDetailDto {
  @ApiProperty({ example: 'This API key has used its token quota (100000 tokens per month)' }) message: string;
  @ApiProperty({
    example: 'insufficient_quota',
    description: OPENAI_ERROR_TYPES.join(', '),
  })
  type: string;
  @ApiProperty({
    example: 'quota_exceeded',
    description: "Stable machine code from the service's catalogue (OpenRouter's own refusals as `upstream_*`)",
  })
  code: string;
  @ApiProperty({ type: String, nullable: true, example: null }) param: string | null;
}

/** The error body of the OpenAI-compatible routes. */
export class OpenAiErrorDto {
  @ApiProperty({ type: OpenAiErrorDetailDto }) error: OpenAiErrorDetailDto;
}
