import { Body, Controller, Post, Req, Res, type Type } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth, CurrentContext, RequestContext } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { InferenceProxy } from '../proxy/inference-proxy';
import { ApiInferenceErrors } from '../proxy/inference-responses.decorator';
import { INFERENCE_ROUTES, InferenceRoute } from '../proxy/inference-routes';

/**
 * The controller of one inference route, built from its row of the table: every route is the same
 * `POST` handed to the one proxy core, and differs only in its endpoint and its OpenAPI description.
 */
export function inferenceController(route: InferenceRoute): Type<unknown> {
  const { endpoint } = route;

  @ApiTags('OpenAI-compatible')
  @ApiKeyAuth({ bearer: true })
  @Controller(endpoint.route)
  class InferenceController {
    constructor(readonly proxy: InferenceProxy) {}

    @Post()
    @RequireScopes('chat')
    @ApiOperation({ summary: route.summary, description: route.description })
    @ApiBody({ schema: route.body })
    @ApiProduces(...(endpoint.streams ? ['application/json', 'text/event-stream'] : ['application/json']))
    @ApiOkResponse({ description: route.ok })
    @ApiInferenceErrors(endpoint.family)
    async create(
      @CurrentContext() ctx: RequestContext,
      @Body() body: unknown,
      @Req() request: FastifyRequest,
      @Res() reply: FastifyReply,
    ): Promise<void> {
      await this.proxy.handle(endpoint, ctx, body, request, reply);
    }
  }
  // Names the OpenAPI operation (`ChatCompletionsController_create`) and the route in Nest's logs.
  Object.defineProperty(InferenceController, 'name', { value: route.controller });
  return InferenceController;
}

/** The five inference routes: chat completions, completions, embeddings, responses, Anthropic messages. */
export const INFERENCE_CONTROLLERS: readonly Type<unknown>[] = INFERENCE_ROUTES.map(inferenceController);
