import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
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
}
