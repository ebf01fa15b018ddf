import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ApiKeyRepository } from '../api-key.repository';

/** A key's last_used_at is written at most once a minute per instance... */
const WRITE_INTERVAL_MS = 60_000;
/** ...in one batched statement, shortly after the first use that needs one. */
const FLUSH_DELAY_MS = 1_000;

/**
 * Keeps `api_keys.last_used_at` current without a write per request: a use is noted in memory (a map
 * lookup), and keys whose recorded use is more than a minute old are written together in one UPDATE
 * a second later. So the column is exact to within a minute, and a key used 100,000 times a minute
 * costs one write a minute per instance.
 */
@Injectable()
export class LastUsedTracker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LastUsedTracker.name);
  /** Key id → time of the last use written (or queued). */
  private readonly written = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly keys: ApiKeyRepository) {}

  touch(keyId: string, now: number): void {
    const last = this.written.get(keyId);
    if (last !== undefined && now - last < WRITE_INTERVAL_MS) return;
    this.written.set(keyId, now);
    this.pending.set(keyId, now);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    this.forgetOld(Date.now());
    try {
      await this.keys.recordUses(batch.map(([id, at]) => ({ id, at: new Date(at) })));
    } catch (err) {
      // Not worth failing anything for: the next use writes again.
      for (const [id] of batch) this.written.delete(id);
      this.logger.warn(`Could not record API key use: ${(err as Error).message}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private forgetOld(now: number): void {
    if (this.written.size < 10_000) return;
    for (const [id, at] of this.written) if (now - at >= WRITE_INTERVAL_MS) this.written.delete(id);
  }
}
