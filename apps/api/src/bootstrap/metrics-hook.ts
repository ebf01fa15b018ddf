import type { FastifyInstance } from 'fastify';
import type { MetricsService, RefusalReason } from '#libs/metrics';

const REFUSAL_CODE = /"code"\s*:\s*"(rate_limited|quota_exceeded|budget_exceeded|tenant_budget_exceeded)"/;

/**
 * Times every response by route pattern (`/api/tenants/:tenantId`, never the raw URL: one series per route,
 * not per id) and status; unrouted requests share one label so that scanners cannot grow the series count.
 * Refusals are counted here, from the 429's own code, wherever the limit that refused it lives (the throttler
 * guards, the auth-failure limiter, the gateway's quotas): one place instead of a line in each.
 */
export function installMetricsHook(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode === 429 && typeof payload === 'string') {
      const code = REFUSAL_CODE.exec(payload)?.[1] as RefusalReason | undefined;
      if (code) metrics.refusal(code);
    }
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
