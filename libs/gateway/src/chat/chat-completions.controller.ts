import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth, CurrentContext, RequestContext } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { CHAT_COMPLETIONS } from '../proxy/inference-endpoint';
import { InferenceProxy } from '../proxy/inference-proxy';
import { ApiInferenceErrors } from '../proxy/inference-responses.decorator';

@ApiTags('OpenAI-compatible')
@ApiKeyAuth({ bearer: true })
@Controller('v1/chat/completions')
export class ChatCompletionsController {
  constructor(private readonly proxy: InferenceProxy) {}

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
  @ApiInferenceErrors()
  async create(
    @CurrentContext() ctx: RequestContext,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.proxy.handle(CHAT_COMPLETIONS, ctx, body, request, reply);
  }
}
