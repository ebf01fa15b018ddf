import type Redis from 'ioredis';
import type { JournalMark } from '#libs/common';
import { QuotaWindow, windowId } from './quota-period';
import { QuotaStore, RESERVATION_TTL_MS, ReserveInput, ReserveResult, Settlement } from './quota.store';

/** Counters outlive their window by this much, so that a late settlement still lands. */
const WINDOW_GRACE_SECONDS = 2 * 86_400;

/**
 * KEYS: counter hash, reservations sorted set. ARGV: quota, tokens, member, reservation ttl (ms).
 * Drops lapsed reservations, then grants when settled usage plus live reservations is below the quota.
 * Members are `<reservation id>:<tokens>`; the score is when the reservation lapses.
 */
const RESERVE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
local reserved = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  reserved = reserved + tonumber(string.match(m, ':(%d+)$') or '0')
end
if used + reserved >= tonumber(ARGV[1]) then return {0, used} end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3] .. ':' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, used}
`;

/**
 * KEYS: counter hashes, then (when ARGV[2] is not empty) the reservations sorted set.
 * ARGV: tokens, reservation member or '', then one ttl in seconds per counter (0 = keep).
 */
const SETTLE_LUA = `
local tokens = tonumber(ARGV[1])
local n = #KEYS
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[n], ARGV[2])
  n = n - 1
end
for i = 1, n do
  if tokens > 0 then redis.call('HINCRBY', KEYS[i], 'used', tokens) end
  local ttl = tonumber(ARGV[2 + i])
  if ttl > 0 and tokens > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
`;

type QuotaCommands = {
  umbQuotaReserve(
    counter: string,
    reservations: string,
    quota: number,
    tokens: number,
    member: string,
    ttlMs: number,
  ): Promise<[number, number]>;
  umbQuotaSettle(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

/**
 * Counters in Redis, shared by every instance: one Lua call (one round trip) per reservation, one
 * pipeline per batch of settlements. A hash per key and window holds `used`; a sorted set per key and
 * window holds the live reservations, each lapsing on its own after RESERVATION_TTL_MS.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis & QuotaCommands;

  constructor(redis: Redis) {
    if (!('umbQuotaReserve' in redis)) redis.defineCommand('umbQuotaReserve', { numberOfKeys: 2, lua: RESERVE_LUA });
    if (!('umbQuotaSettle' in redis)) redis.defineCommand('umbQuotaSettle', { lua: SETTLE_LUA });
    this.redis = redis as Redis & QuotaCommands;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const [granted, used] = await this.redis.umbQuotaReserve(
      counterKey(input.apiKeyId, input.window),
      reservationsKey(input.apiKeyId, input.window),
      input.quota,
      Math.max(0, Math.round(input.tokens)),
      input.reservationId,
      RESERVATION_TTL_MS,
    );
    return { granted: granted === 1, used: Number(used) };
  }

  async settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    // With a journal mark, one MULTI: the counters and the mark are applied together or not at all.
    const pipeline = (mark ? this.redis.multi() : this.redis.pipeline()) as ReturnType<Redis['pipeline']> & {
      umbQuotaSettle(numKeys: number, ...args: (string | number)[]): unknown;
    };
    let commands = 0;
    const now = Date.now();
    for (const s of settlements) {
      if (s.tokens <= 0 && !s.reservation) continue;
      const keys = s.windows.map((w) => counterKey(s.apiKeyId, w));
      const ttls = s.windows.map((w) => ttlSeconds(w, now));
      let member = '';
      if (s.reservation) {
        keys.push(reservationsKey(s.apiKeyId, s.reservation.window));
        member = `${s.reservation.reservationId}:${Math.max(0, Math.round(s.reservation.tokens))}`;
      }
      pipeline.umbQuotaSettle(keys.length, ...keys, Math.max(0, Math.round(s.tokens)), member, ...ttls);
      commands++;
    }
    if (mark) {
      pipeline.set(markKey(mark.journal, mark.channel), String(mark.position), 'EX', MARK_TTL_SECONDS);
      commands++;
    }
    if (commands === 0) return;
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async journalMark(journal: string, channel: string): Promise<number> {
    return Number((await this.redis.get(markKey(journal, channel))) ?? 0);
  }

  async used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.hget(counterKey(k.apiKeyId, k.window), 'used');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, value]) => {
      if (err) throw err;
      return Number(value ?? 0);
    });
  }
}

/** A journal is replayed at the latest when its host's next server starts. */
const MARK_TTL_SECONDS = 90 * 86_400;

function markKey(journal: string, channel: string): string {
  return `umb:journal:${journal}:${channel}`;
}

/** `{<key id>}` is a hash tag: a key's counters stay on one Redis Cluster slot. */
function counterKey(apiKeyId: string, window: QuotaWindow): string {
  return `umb:quota:{${apiKeyId}}:${windowId(window)}`;
}

function reservationsKey(apiKeyId: string, window: QuotaWindow): string {
  return `${counterKey(apiKeyId, window)}:reserved`;
}

function ttlSeconds(window: QuotaWindow, now: number): number {
  if (!window.end) return 0;
  return Math.max(1, Math.ceil((window.end.getTime() - now) / 1000)) + WINDOW_GRACE_SECONDS;
}
