import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a throttler storage answers (the package exports the interface but not the record type). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Fixed-window counting, shared by both storages: the first hit opens a window of `ttl` ms, every hit
 * adds one, a hit beyond `limit` is blocked until the window ends. When the limit is first exceeded
 * and `blockDuration` reaches past the window's end, the window is extended to it (the throttler's
 * blockDuration semantics: blocked for that long). Cost per hit is constant whatever the limit.
 */
export function windowRecord(hits: number, msLeft: number, limit: number): ThrottlerStorageRecord {
  const secondsLeft = Math.max(1, Math.ceil(msLeft / 1000));
  const isBlocked = hits > limit;
  return { totalHits: hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
}
