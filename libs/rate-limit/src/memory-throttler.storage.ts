import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { type ThrottlerStorageRecord, windowRecord } from './fixed-window';

interface Window {
  hits: number;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * In-process throttler storage: one counter and one expiry per key (a Map entry), so a hit costs the
 * same for a limit of 10 or of 1,000,000 (the bundled storage keeps a timestamp per hit and filters
 * them on every call). Expired windows are swept once a minute.
 */
@Injectable()
export class MemoryThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly windows = new Map<string, Window>();
  private sweeper: NodeJS.Timeout | null = null;

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return this.hit(`${throttlerName}:${key}`, ttl, limit, blockDuration, Date.now());
  }

  /** Synchronous core, also used by the Redis storage as its fallback. */
  hit(id: string, ttl: number, limit: number, blockDuration: number, now: number): ThrottlerStorageRecord {
    let w = this.windows.get(id);
    if (!w || w.expiresAt <= now) {
      w = { hits: 0, expiresAt: now + ttl };
      this.windows.set(id, w);
      this.startSweeper();
    }
    w.hits++;
    if (w.hits === limit + 1 && now + blockDuration > w.expiresAt) w.expiresAt = now + blockDuration;
    return windowRecord(w.hits, w.expiresAt - now, limit);
  }

  get size(): number {
    return this.windows.size;
  }

  sweep(now = Date.now()): void {
    for (const [id, w] of this.windows) if (w.expiresAt <= now) this.windows.delete(id);
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }
}
