/**
 * The API built inside the test process with the server's own factory (createApp, as main.ts does), on the real
 * database, listening on a real port. Start-up is a fraction of a child process's, and nothing differs in what a
 * request meets. Process-wide things stay out: the configuration comes from the variables the harness chose
 * (never process.env), and stop() closes the app, its timers, its Redis and database connections and the
 * embedded database, so that the test process can end.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '#libs/config';
import { openDatabaseEndpoint, type DatabaseEndpoint } from '#libs/database';
import { createApp } from '../../apps/api/src/bootstrap/create-app';
import { captureStdout, type LogSink } from './stdout-capture';

export class InProcessServer {
  private constructor(
    private readonly app: NestFastifyApplication,
    private readonly endpoint: DatabaseEndpoint,
    private readonly releaseLogs: () => void,
  ) {}

  /** Validates `env` as the server does, opens the database, builds the app and listens on PORT and HOST. */
  static async start(env: Record<string, string>, logs: LogSink): Promise<InProcessServer> {
    const config = new AppConfig(env);
    const releaseLogs = captureStdout(logs);
    let endpoint: DatabaseEndpoint | undefined;
    let app: NestFastifyApplication | undefined;
    try {
      endpoint = await openDatabaseEndpoint({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolSize: config.databasePoolSize,
      });
      const built = (app = await createApp(config, endpoint));
      await built.listen(config.port, config.host);
      return new InProcessServer(built, endpoint, releaseLogs);
    } catch (err) {
      await app?.close().catch(() => undefined);
      await endpoint?.close().catch(() => undefined);
      releaseLogs();
      throw err;
    }
  }

  /** As the server's graceful shutdown does: HTTP and the app's hooks first, the database last. */
  async stop(): Promise<void> {
    try {
      await this.app.close();
    } finally {
      await this.endpoint.close();
      // pino writes asynchronously: lines of the last requests arrive after close.
      setImmediate(this.releaseLogs);
    }
  }
}
