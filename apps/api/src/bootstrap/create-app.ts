import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AccessLogController, createRootLogger, requestIdFor } from '#libs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';
import { MetricsService } from '#libs/metrics';
import { AppModule } from '../app.module';
import { installHttpEdge } from './http-edge';
import { installMetricsHook } from './metrics-hook';
import { setUpOpenApi } from './openapi';
import { installRootRoutes } from './root-routes';

/** Builds the whole HTTP application (not yet listening): the server process and the in-process tests use this. */
export async function createApp(config: AppConfig, endpoint: DatabaseEndpoint): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: createRootLogger(config.logLevel),
    logController: new AccessLogController(),
    genReqId: requestIdFor,
    bodyLimit: 2 * 1024 * 1024,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, endpoint), adapter, {
    bufferLogs: true,
    // Keeps the request's bytes as `req.rawBody`: webhook signatures are checked over the exact body.
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix('api');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  installHttpEdge(app.getHttpAdapter().getInstance(), config);
  // Per-request timing only when someone can scrape it (METRICS_TOKEN): the bench compares both.
  if (config.metricsToken) installMetricsHook(app.getHttpAdapter().getInstance(), app.get(MetricsService));
  setUpOpenApi(app);
  installRootRoutes(app.getHttpAdapter().getInstance());
  return app;
}
