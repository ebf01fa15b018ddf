import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth, CurrentContext, RequestContext } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { EMBEDDINGS } from '../proxy/inference-endpoint';
import { InferenceProxy } from '../proxy/inference-proxy';
import { ApiInferenceErrors } from '../proxy/inference-responses.decorator';

@ApiTags('OpenAI-compatible')
@ApiKeyAuth({ bearer: true })
@Controller('v1/embeddings')
export class EmbeddingsController {
  constructor(private readonly proxy: InferenceProxy) {}

  @Post()
  @RequireScopes('chat')
  @ApiOperation({
    summary: "OpenAI-compatible embeddings on the key's user's OpenRouter key",
    description:
      'Forwarded to OpenRouter’s `/embeddings` exactly as chat completions are (never streamed): the body ' +
      'unchanged, renewal on 401 (`X-OpenRouter-Key-Renewed: true`), usage recorded and counted against the ' +
      'token quota, errors in OpenAI’s shape.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'input'],
      properties: {
        model: { type: 'string' },
        input: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        encoding_format: { type: 'string', enum: ['float', 'base64'] },
        dimensions: { type: 'integer' },
      },
    },
  })
  @ApiOkResponse({ description: 'A list of embedding objects with `usage`' })
  @ApiInferenceErrors()
  async create(
    @CurrentContext() ctx: RequestContext,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.proxy.handle(EMBEDDINGS, ctx, body, request, reply);
  }
}
