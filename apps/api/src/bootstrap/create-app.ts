import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AccessLogController, clientErrorHandler, createRootLogger, requestIdFor } from '#libs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';
import { edgeServerOptions } from '#libs/http-edge';
import { AppModule } from '../app.module';
import { installHttpEdge } from './http-edge';
import { setUpOpenApi } from './openapi';

/** Builds the whole HTTP application (not yet listening): the server process and the in-process tests use this. */
export async function createApp(config: AppConfig, endpoint: DatabaseEndpoint): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: createRootLogger(config.logLevel),
    logController: new AccessLogController(),
    genReqId: requestIdFor,
    return503OnClosing: true,
    clientErrorHandler,
    // Body limit, request timeout (slow bodies dropped), keep-alive, trusted proxies: see libs/http-edge.
    ...edgeServerOptions(config.trustProxy),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, endpoint), adapter, {
    bufferLogs: true,
    // The edge installs the one JSON parser (depth and text checks; keeps `req.rawBody` for webhook signatures).
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix('api');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  installHttpEdge(app, config);
  setUpOpenApi(app);
  return app;
}
