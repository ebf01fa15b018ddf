import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccessLogController, createLoggers, NestPinoLogger, requestIdFor, sharedRequestLogger } from '#libs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';
import { AppModule } from '../app.module';
import { installHttpEdge } from './http-edge';
import { installLiveness } from './liveness';
import { setUpOpenApi } from './openapi';

/** Builds the whole HTTP application (not yet listening): the server process and the in-process tests use this. */
export async function createApp(config: AppConfig, endpoint: DatabaseEndpoint): Promise<NestFastifyApplication> {
  const loggers = createLoggers(config.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: loggers.root,
    childLoggerFactory: sharedRequestLogger,
    logController: new AccessLogController(loggers.access, loggers.root),
    genReqId: requestIdFor,
    bodyLimit: 2 * 1024 * 1024,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, endpoint), adapter, {
    logger: new NestPinoLogger(loggers.root),
    // Keeps the request's bytes as `req.rawBody`: webhook signatures are checked over the exact body.
    rawBody: true,
  });
  app.setGlobalPrefix('api');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // Before Nest's routes: liveness is answered by Fastify alone.
  installLiveness(app.getHttpAdapter().getInstance());
  installHttpEdge(app.getHttpAdapter().getInstance(), config);
  setUpOpenApi(app);
  return app;
}
