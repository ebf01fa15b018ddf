import 'reflect-metadata';
import { loadDotEnv } from '#libs/config';
loadDotEnv();
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AccessLogController, createRootLogger, requestIdFor } from '#libs/common';
import { AppConfig } from '#libs/config';
import { openDatabaseEndpoint } from '#libs/database';
import { AppModule } from './app.module';
import { setUpOpenApi } from './openapi';

async function bootstrap(): Promise<void> {
  const config = new AppConfig(); // fails here, naming the variable, on a bad environment
  const endpoint = await openDatabaseEndpoint({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });

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
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.setGlobalPrefix('api');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });

  setUpOpenApi(app);
  await app.listen(config.port, config.host);
  logger.log(
    `Listening on http://${config.host}:${config.port} (database: ${endpoint.embedded ? `embedded under ${config.dataDir}` : 'PostgreSQL server'}, limits: ${config.redisUrl ? 'Redis' : 'in process'})`,
    'Bootstrap',
  );

  // Graceful shutdown: stop accepting, let in-flight requests finish, close the database last.
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: draining`, 'Bootstrap');
    const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    try {
      // Drain HTTP first (Nest runs onModuleDestroy hooks, e.g. the OpenRouter agents, before closing its server), freeing
      // keep-alive sockets as their last request ends: the server's close waits for them, up to SHUTDOWN_TIMEOUT_MS.
      setInterval(() => app.getHttpServer().closeIdleConnections(), 100).unref();
      await app.getHttpAdapter().close();
      await app.close();
      await endpoint.close();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

bootstrap().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
