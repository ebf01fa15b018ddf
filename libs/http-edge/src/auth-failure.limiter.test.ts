import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AuthFailureLimiter, clientOf } from './auth-failure.limiter';

/** A fixed-window storage that counts its calls: what the limiter asks of the shared one. */
function countingStorage() {
  const hits = new Map<string, number>();
  let calls = 0;
  const storage: ThrottlerStorage = {
    increment: async (key, ttl, limit, _block, name) => {
      calls++;
      const n = (hits.get(`${name}:${key}`) ?? 0) + 1;
      hits.set(`${name}:${key}`, n);
      return { totalHits: n, timeToExpire: ttl / 1000, isBlocked: n > limit, timeToBlockExpire: 0 };
    },
  };
  return { storage, calls: () => calls, hits };
}

describe('AuthFailureLimiter', () => {
  it('answers 0 up to the limit, then the seconds left, and no longer asks the storage once over it', async () => {
    const { storage, calls, hits } = countingStorage();
    const limiter = new AuthFailureLimiter(3, storage);
    const now = Date.now();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await limiter.recordFailure('203.0.113.7', now));
    assert.deepEqual(answers, [0, 0, 0, 60, 60, 60]);
    assert.equal(calls(), 4, 'failures past the first over the limit are answered from memory');
    assert.deepEqual([...hits.keys()], ['auth-failures:203.0.113.7']);
    assert.equal(await limiter.recordFailure('203.0.113.8', now), 0, 'another address has its own count');
    assert.equal(await limiter.recordFailure('203.0.113.7', now + 59_500), 1, 'at least one second');
  });
});

describe('clientOf', () => {
  it('keeps IPv4 addresses and takes the /64 of IPv6 ones', () => {
    assert.equal(clientOf('203.0.113.7'), '203.0.113.7');
    assert.equal(clientOf('::ffff:203.0.113.7'), '::ffff:203.0.113.7');
    assert.equal(clientOf('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3:8d3::/64');
    assert.equal(clientOf('2001:DB8:0085:0:ffff::1'), '2001:db8:85:0::/64');
    assert.equal(clientOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientOf('2001:db8::2'), clientOf('2001:db8:0:0:ffff:ffff:ffff:ffff'));
    assert.equal(clientOf('::1'), '0:0:0:0::/64');
    assert.notEqual(clientOf('2001:db8:0:1::1'), clientOf('2001:db8:0:2::1'));
  });
});
