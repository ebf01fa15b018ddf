import type { FastifyInstance } from 'fastify';
import type { MetricsService } from '#libs/metrics';

/**
 * Times every response by route pattern (`/api/tenants/:tenantId`, never the raw URL: one series per route,
 * not per id) and status. Unrouted requests share one label so that scanners cannot grow the series count.
 */
export function installMetricsHook(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
