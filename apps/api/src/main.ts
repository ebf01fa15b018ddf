import 'reflect-metadata';
import { loadDotEnv } from '#libs/config';
loadDotEnv();
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '#libs/config';
import { openDatabaseEndpoint } from '#libs/database';
import { createApp } from './bootstrap/create-app';
import { installGracefulShutdown } from './bootstrap/graceful-shutdown';
import { replayJournals } from './bootstrap/journal-replay';
import { logStartupSummary } from './bootstrap/startup-summary';

async function bootstrap(): Promise<void> {
  const config = new AppConfig(); // fails here, naming the variable, on a bad environment
  const endpoint = await openDatabaseEndpoint({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  let app;
  try {
    app = await createApp(config, endpoint);
    await replayJournals(app, new Logger());
    await listenQuietly(app, config);
  } catch (err) {
    // A refused start-up (e.g. the wrong ENCRYPTION_KEY) closes the embedded database cleanly, so that
    // the next process (the command line) does not find it still open.
    await endpoint.close().catch(() => undefined);
    throw err;
  }
  const logger = new Logger(); // the app's logger (NestPinoLogger), set by createApp
  logStartupSummary(logger, config, endpoint);
  installGracefulShutdown(app, endpoint, config, logger);
}

/**
 * Fastify announces every address it listens on at info level; the start-up summary says where the server is
 * once, with what a newcomer needs beside it. Its logger is held at warn for the moment of listening only.
 */
async function listenQuietly(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const log = app.getHttpAdapter().getInstance().log;
  const level = log.level;
  if (['trace', 'debug', 'info'].includes(level)) log.level = 'warn';
  try {
    await app.listen(config.port, config.host);
  } finally {
    log.level = level;
  }
}

bootstrap().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
