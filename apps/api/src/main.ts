import 'reflect-metadata';
import { loadDotEnv } from '#libs/config';
loadDotEnv();
import { Logger } from '@nestjs/common';
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
    await app.listen(config.port, config.host);
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

bootstrap().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
