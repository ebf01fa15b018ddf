import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  AccessLogController,
  createClientErrorHandler,
  createLoggers,
  NestPinoLogger,
  replySerializer,
  requestIdFor,
  sharedRequestLogger,
} from '#libs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';
import { answerFrameworkError, edgeServerOptions, installDocsSecurityHeaders } from '#libs/http-edge';
import { AppModule } from '../app.module';
import { installHttpEdge } from './http-edge';
import { installLiveness, serverAnsweringProbes } from './liveness';
import { installMetricsHook } from './metrics-hook';
import { MetricsService } from '#libs/metrics';
import { setUpOpenApi } from './openapi';
import { installRootRoutes } from './root-routes';

/** Builds the whole HTTP application (not yet listening): the server process and the in-process tests use this. */
export async function createApp(config: AppConfig, endpoint: DatabaseEndpoint): Promise<NestFastifyApplication> {
  const loggers = createLoggers(config.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: loggers.root,
    childLoggerFactory: sharedRequestLogger,
    logController: new AccessLogController(loggers.access, loggers.root),
    genReqId: requestIdFor,
    return503OnClosing: true,
    // No Nest middleware in this app: without middie, no request pays its hook.
    skipMiddie: true,
    clientErrorHandler: createClientErrorHandler(loggers.root),
    // A URL Fastify cannot route is refused before any hook, with a catalogue code and without echoing it.
    frameworkErrors: answerFrameworkError,
    // Body limit, request timeout (slow bodies dropped), keep-alive, trusted proxies: see libs/http-edge.
    ...edgeServerOptions(config.trustProxy),
    // Liveness probes are answered by the server itself, before Fastify (see liveness.ts).
    serverFactory: serverAnsweringProbes,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, endpoint), adapter, {
    logger: new NestPinoLogger(loggers.root),
    // The edge installs the one JSON parser (depth and text checks; keeps `req.rawBody` for webhook signatures).
    bodyParser: false,
  });
  // Before Nest registers its routes: each route takes the serializer in force when it is added.
  app.getHttpAdapter().getInstance().setReplySerializer(replySerializer);
  app.setGlobalPrefix('api');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // Before Nest's routes: liveness not taken by the server itself is answered by Fastify alone.
  installLiveness(app.getHttpAdapter().getInstance());
  installHttpEdge(app, config);
  // Per-request timing only when someone can scrape it (METRICS_TOKEN): the bench compares both.
  if (config.metricsToken) installMetricsHook(app.getHttpAdapter().getInstance(), app.get(MetricsService));
  installDocsSecurityHeaders(app.getHttpAdapter().getInstance(), '/api/docs');
  setUpOpenApi(app);
  installRootRoutes(app.getHttpAdapter().getInstance());
  return app;
}
