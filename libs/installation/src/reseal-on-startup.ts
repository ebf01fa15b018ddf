import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SecretsResealer } from './secrets-resealer';

/**
 * The server re-seals, in the background once started, whatever is not sealed with the current key
 * (a rotation in progress): reads work with either key meanwhile, and the database's fingerprint
 * moves to the new key when it is done. Concurrent runs on several instances are safe (each write is
 * conditional on the value it replaces).
 */
@Injectable()
export class ResealOnStartup implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ResealOnStartup.name);
  private running: Promise<void> | null = null;

  constructor(private readonly resealer: SecretsResealer) {}

  onApplicationBootstrap(): void {
    this.running = this.resealer
      .resealAll()
      .then(() => undefined)
      .catch((err) => this.logger.warn(`Re-sealing secrets failed: ${(err as Error)?.message ?? 'error'}`));
  }

  /** Before any shutdown hook closes the database connections it is using. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.running;
  }
}
