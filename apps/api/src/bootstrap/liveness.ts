import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const LIVENESS_PATH = '/api/health';
const LIVENESS_BODY = '{"status":"ok"}';

/**
 * Liveness: the process answers. A plain Fastify route, registered before Nest's: no guard, pipe,
 * interceptor or filter has anything to do here, and a probe should cost what Fastify costs.
 * Readiness (`/api/health/ready`, dependencies checked) stays a Nest route on terminus.
 */
export function installLiveness(fastify: FastifyInstance): void {
  fastify.get(LIVENESS_PATH, answerLiveness);
}

export function answerLiveness(_req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('content-type', 'application/json; charset=utf-8').send(LIVENESS_BODY);
}

/** The route in the OpenAPI document, as Nest's Swagger module would have described it. */
export const LIVENESS_OPENAPI = {
  get: {
    operationId: 'HealthController_live',
    summary: 'Liveness',
    tags: ['health'],
    parameters: [],
    responses: {
      '200': {
        description: 'The process answers',
        content: { 'application/json': { schema: { example: { status: 'ok' } } } },
      },
    },
  },
};
