import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';

/** On SIGTERM or SIGINT: stop accepting, let in-flight requests finish, close the database last. */
export function installGracefulShutdown(
  app: NestFastifyApplication,
  endpoint: DatabaseEndpoint,
  config: AppConfig,
  logger: LoggerService,
): void {
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
