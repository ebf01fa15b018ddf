import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth, CurrentContext, RequestContext, RequireScopes } from '#libs/common';
import { OpenAiErrorDto } from '../errors/openai-error.dto';
import { ChatProxyService } from './chat-proxy.service';

@ApiTags('OpenAI-compatible')
@ApiKeyAuth({ bearer: true })
@Controller('v1/chat/completions')
export class ChatCompletionsController {
  constructor(private readonly proxy: ChatProxyService) {}

  @Post()
  @RequireScopes('chat')
  @ApiOperation({
    summary: "OpenAI-compatible chat completion on the key's user's OpenRouter key",
    description:
      'The body is forwarded to OpenRouter unchanged. `stream: true` answers server-sent events as they arrive. ' +
      'A revoked upstream key is renewed once and the request retried (`X-OpenRouter-Key-Renewed: true`). ' +
      'Errors are OpenAI-shaped: `{"error": {"message", "type", "code"}}`; a key over its token quota gets 429 `insufficient_quota`.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'messages'],
      properties: {
        model: { type: 'string' },
        messages: { type: 'array', items: { type: 'object' } },
        stream: { type: 'boolean' },
        max_tokens: { type: 'integer' },
      },
    },
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ description: 'A chat.completion object, or a stream of chat.completion.chunk events' })
  @ApiResponse({
    status: 401,
    type: OpenAiErrorDto,
    description: 'No, unknown, revoked or expired API key; or OpenRouter refused the renewed key too',
  })
  @ApiResponse({
    status: 402,
    type: OpenAiErrorDto,
    description: "OpenRouter's answer, passed through: the user's key is out of credits",
  })
  @ApiResponse({
    status: 403,
    type: OpenAiErrorDto,
    description: 'Missing `chat` scope, disabled key; or OpenRouter’s 403, passed through',
  })
  @ApiResponse({
    status: 429,
    type: OpenAiErrorDto,
    description: '`insufficient_quota` / `quota_exceeded` (token quota), or `rate_limited`',
  })
  @ApiResponse({
    status: 502,
    type: OpenAiErrorDto,
    description:
      '`upstream_error`, `upstream_unavailable`, `openrouter_key_unavailable`, `openrouter_key_renewal_failed`',
  })
  @ApiResponse({ status: 503, type: OpenAiErrorDto, description: '`openrouter_not_configured`, `openrouter_key_busy`' })
  @ApiResponse({ status: 504, type: OpenAiErrorDto, description: '`upstream_timeout`' })
  async create(
    @CurrentContext() ctx: RequestContext,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.proxy.handle(ctx, body, request, reply);
  }
}
