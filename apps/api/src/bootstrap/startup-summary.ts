import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '#libs/config';
import type { DatabaseEndpoint } from '#libs/database';

/** The line an operator reads once the server listens. */
export function logStartupSummary(logger: LoggerService, config: AppConfig, endpoint: DatabaseEndpoint): void {
  logger.log(
    `Listening on http://${config.host}:${config.port} (database: ${endpoint.embedded ? `embedded under ${config.dataDir}` : 'PostgreSQL server'}, limits: ${config.redisUrl ? 'Redis' : 'in process'})`,
    'Bootstrap',
  );
}
