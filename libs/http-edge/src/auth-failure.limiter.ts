import { isIPv6 } from 'node:net';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { LruCache } from '#libs/common';

const WINDOW_MS = 60_000;
/** The name the counters go by in the shared throttler storage (`umb:rl:auth-failures:<address>` in Redis). */
const COUNTER_NAME = 'auth-failures';

/**
 * Failed authentications per client address, in a fixed one-minute window, counted in the app's throttler
 * storage: in Redis when configured, so that the limit holds across instances (in process otherwise, and
 * while Redis is down). Only failures are ever counted, and only a failure is ever refused: the limit
 * decides whether a credential that did not verify is answered 401 or 429, so nobody sharing an address
 * with an attacker (a NAT, an office, a proxy) is locked out. A failure from an address known to be over
 * the limit is answered from memory, without a round trip.
 */
export class AuthFailureLimiter {
  /** Addresses over the limit, until their window ends (as the shared count said). */
  private readonly blocked = new LruCache<string, number>(100_000, WINDOW_MS);

  constructor(
    private readonly limitPerMinute: number,
    private readonly storage: ThrottlerStorage,
  ) {}

  /**
   * Counts one failed authentication from `address`. Resolves to the seconds until the address may fail again
   * when it is over the limit (answer 429 with Retry-After), or 0 while it is under it (answer the failure).
   */
  async recordFailure(address: string, now = Date.now()): Promise<number> {
    const client = clientOf(address);
    const until = this.blocked.get(client);
    if (until !== undefined && until > now) return Math.max(1, Math.ceil((until - now) / 1000));
    const record = await this.storage.increment(client, WINDOW_MS, this.limitPerMinute, 0, COUNTER_NAME);
    if (!record.isBlocked) return 0;
    this.blocked.set(client, now + record.timeToExpire * 1000, record.timeToExpire * 1000);
    return record.timeToExpire;
  }
}

/**
 * The client an address stands for: itself for IPv4, its /64 for IPv6, which one host is commonly given
 * whole, so that walking through it does not reset the count. Counting more widely never locks anyone out
 * here, since only failing credentials are refused.
 */
export function clientOf(address: string): string {
  if (!isIPv6(address) || address.includes('.')) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
