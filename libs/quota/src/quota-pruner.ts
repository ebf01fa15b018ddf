import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { QUOTA_STORE, QuotaStore } from './quota.store';

const PRUNE_EVERY_MS = 6 * 3_600_000;
/** Day and month counters older than this are no one's current window any more. */
const KEEP_DAYS = 70;

/** Deletes old day/month counter rows in PostgreSQL now and then (Redis expires its own). */
@Injectable()
export class QuotaPruner implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QuotaPruner.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(@Inject(QUOTA_STORE) private readonly store: QuotaStore) {}

  onModuleInit(): void {
    const prune = this.store.prune?.bind(this.store);
    if (!prune) return;
    this.timer = setInterval(() => {
      prune(KEEP_DAYS).then(
        (n) => n > 0 && this.logger.log(`Pruned ${n} old quota counter(s)`),
        (err: { code?: string }) => this.logger.warn(`Pruning quota counters failed: ${err?.code ?? 'error'}`),
      );
    }, PRUNE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
