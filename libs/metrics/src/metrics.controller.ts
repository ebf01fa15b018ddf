import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppError, Public } from '#libs/common';
import { AppConfig } from '#libs/config';
import { bearerMatches } from './metrics-token';
import { MetricsService } from './metrics.service';

/**
 * Prometheus scrape endpoint. Public to the global guard (scrapers carry no Clerk token nor API key) and
 * guarded here by METRICS_TOKEN instead; without a token configured the route does not exist.
 */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const token = this.config.metricsToken;
    if (!token) throw new AppError('not_found', 'Cannot GET /api/metrics');
    if (!bearerMatches(authorization, token)) {
      throw new AppError('unauthenticated', 'A valid metrics token is required (Authorization: Bearer …)');
    }
    reply.header('content-type', this.metrics.contentType());
    reply.header('cache-control', 'no-store');
    return this.metrics.text();
  }
}
