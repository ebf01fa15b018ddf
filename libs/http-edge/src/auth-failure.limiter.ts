import { LruCache } from '#libs/common';

const WINDOW_MS = 60_000;

interface Window {
  failures: number;
  resetAt: number;
}

/**
 * Failed authentications per client address, in a fixed one-minute window, in process. Kept in memory on
 * purpose: the check runs before every protected request is authenticated, and a shared counter would cost
 * a Redis round trip there, on valid requests too. A successful authentication is never counted or delayed;
 * with N instances an address gets N times the budget, which still stops a lookup flood.
 */
export class AuthFailureLimiter {
  private readonly windows = new LruCache<string, Window>(100_000, WINDOW_MS);

  constructor(private readonly limitPerMinute: number) {}

  /** Seconds until the address may try again, or 0 while it is under the limit. */
  retryAfter(address: string, now = Date.now()): number {
    const w = this.windows.get(address);
    if (!w || w.resetAt <= now || w.failures < this.limitPerMinute) return 0;
    return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  }

  /** True while the address has failures in its current window (it may be under attack from there). */
  hasFailures(address: string, now = Date.now()): boolean {
    const w = this.windows.get(address);
    return w !== undefined && w.resetAt > now;
  }

  recordFailure(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (w && w.resetAt > now) w.failures++;
    else this.windows.set(address, { failures: 1, resetAt: now + WINDOW_MS });
  }
}
