import 'reflect-metadata';
import { loadDotEnv } from '#libs/config';
loadDotEnv();
import { Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { openDatabaseEndpoint } from '#libs/database';
import { createApp } from './bootstrap/create-app';
import { installGracefulShutdown } from './bootstrap/graceful-shutdown';
import { logStartupSummary } from './bootstrap/startup-summary';

async function bootstrap(): Promise<void> {
  const config = new AppConfig(); // fails here, naming the variable, on a bad environment
  const endpoint = await openDatabaseEndpoint({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  const app = await createApp(config, endpoint);
  const logger = new Logger(); // the app's logger (NestPinoLogger), set by createApp
  await app.listen(config.port, config.host);
  logStartupSummary(logger, config, endpoint);
  installGracefulShutdown(app, endpoint, config, logger);
}

bootstrap().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
