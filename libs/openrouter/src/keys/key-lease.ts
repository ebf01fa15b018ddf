import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { OpenRouterKeyRepository } from './openrouter-key.repository';

const PROCESS_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * A short lease on a user's key row, taken with one conditional UPDATE, so that exactly one
 * instance at a time creates or replaces the user's upstream key. No transaction or connection is
 * held during the upstream call (the embedded database has a single connection); a crashed holder's
 * lease simply expires.
 */
@Injectable()
export class KeyLease {
  private readonly logger = new Logger(KeyLease.name);
  private readonly ttlMs: number;

  constructor(
    private readonly keys: OpenRouterKeyRepository,
    config: AppConfig,
  ) {
    // Long enough for the upstream calls a holder makes (a read, a create, an update), each within the timeout.
    this.ttlMs = config.openRouter.timeoutMs * 3 + 5000;
  }

  /**
   * Runs `work` holding the user's lease. While another holder has it, polls `whenBusy` (which may return that
   * holder's result) until the lease frees up or the wait is over (503 `openrouter_key_busy`).
   */
  async hold<T>(userId: string, work: () => Promise<T>, whenBusy: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + this.ttlMs + 5000;
    for (;;) {
      const token = await this.tryAcquire(userId, this.ttlMs);
      if (token) {
        try {
          return await work();
        } finally {
          await this.release(userId, token).catch((err: unknown) =>
            this.logger.warn(`Releasing key lease failed: ${(err as { code?: string })?.code ?? 'error'}`),
          );
        }
      }
      const theirs = await whenBusy();
      if (theirs !== undefined) return theirs;
      if (Date.now() > deadline)
        throw new AppError('openrouter_key_busy', 'The OpenRouter key is being changed; retry shortly');
      await sleep(40 + Math.random() * 40);
    }
  }

  /** Returns a lease token when taken, null when another holder has it. */
  async tryAcquire(userId: string, ttlMs: number): Promise<string | null> {
    const token = `${PROCESS_ID}:${randomUUID().slice(0, 8)}`;
    return (await this.keys.takeLease(userId, token, ttlMs)) ? token : null;
  }

  release(userId: string, token: string): Promise<void> {
    return this.keys.releaseLease(userId, token);
  }
}
