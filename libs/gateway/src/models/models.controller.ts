import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth } from '#libs/common';
import { OpenAiErrorDto } from '../errors/openai-error.dto';
import { ModelsCatalog } from './models.catalog';

@ApiTags('OpenAI-compatible')
@ApiKeyAuth({ bearer: true })
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly catalog: ModelsCatalog) {}

  @Get()
  @ApiOperation({ summary: "OpenRouter's model list (`{data: [...]}`), cached for a few minutes" })
  @ApiOkResponse({ schema: { type: 'object', properties: { data: { type: 'array', items: { type: 'object' } } } } })
  @ApiResponse({ status: 401, type: OpenAiErrorDto })
  @ApiResponse({
    status: 502,
    type: OpenAiErrorDto,
    description: '`upstream_unavailable`: OpenRouter failed and no cached list is recent enough',
  })
  async list(@Res() reply: FastifyReply): Promise<void> {
    const json = await this.catalog.json();
    void reply.status(200).header('content-type', 'application/json; charset=utf-8').send(json);
  }

  /** A wildcard: model ids contain `/` (`openai/gpt-4o-mini`), which a `:model` parameter would not match. */
  @Get('*')
  @ApiOperation({
    summary: 'One model of the cached list, by id (ids contain `/`, e.g. `/api/v1/models/openai/gpt-4o-mini`)',
  })
  // Swagger names the wildcard `path`.
  @ApiParam({
    name: 'path',
    description: 'The model id, which may contain `/` (e.g. `openai/gpt-4o-mini`, or encoded `openai%2Fgpt-4o-mini`)',
    example: 'openai/gpt-4o-mini',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { id: { type: 'string' } } } })
  @ApiResponse({ status: 401, type: OpenAiErrorDto })
  @ApiResponse({ status: 404, type: OpenAiErrorDto, description: '`model_not_found`' })
  @ApiResponse({ status: 502, type: OpenAiErrorDto, description: '`upstream_unavailable`' })
  async retrieve(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const id = modelIdOf(request);
    const json = await this.catalog.model(id);
    void reply.status(200).header('content-type', 'application/json; charset=utf-8').send(json);
  }
}

/** The id after `/models/`, decoded (SDKs may send `openai%2Fgpt-4o-mini`). */
function modelIdOf(request: FastifyRequest): string {
  const raw = (request.params as Record<string, string | undefined>)['*'] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
