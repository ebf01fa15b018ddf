import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth, CurrentContext, RequestContext } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { COMPLETIONS } from '../proxy/inference-endpoint';
import { InferenceProxy } from '../proxy/inference-proxy';
import { ApiInferenceErrors } from '../proxy/inference-responses.decorator';

@ApiTags('OpenAI-compatible')
@ApiKeyAuth({ bearer: true })
@Controller('v1/completions')
export class CompletionsController {
  constructor(private readonly proxy: InferenceProxy) {}

  @Post()
  @RequireScopes('chat')
  @ApiOperation({
    summary: "OpenAI-compatible (legacy) text completion on the key's user's OpenRouter key",
    description:
      'Forwarded to OpenRouter’s `/completions` exactly as chat completions are: the body unchanged, ' +
      '`stream: true` relayed as server-sent events, renewal on 401 (`X-OpenRouter-Key-Renewed: true`), ' +
      'usage recorded and counted against the token quota, errors in OpenAI’s shape.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'prompt'],
      properties: {
        model: { type: 'string' },
        prompt: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        stream: { type: 'boolean' },
        max_tokens: { type: 'integer' },
      },
    },
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ description: 'A text_completion object, or a stream of text_completion events' })
  @ApiInferenceErrors()
  async create(
    @CurrentContext() ctx: RequestContext,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.proxy.handle(COMPLETIONS, ctx, body, request, reply);
  }
}
