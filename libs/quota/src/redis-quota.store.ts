import type Redis from 'ioredis';
import type { JournalMark } from '#libs/common';
import { QuotaWindow, windowId } from './quota-period';
import {
  AdmitInput,
  AdmitResult,
  QuotaStore,
  RESERVATION_TTL_MS,
  ReserveInput,
  ReserveResult,
  Settlement,
  SpendKey,
} from './quota.store';

/** Counters outlive their window by this much, so that a late settlement still lands. */
const WINDOW_GRACE_SECONDS = 2 * 86_400;

/**
 * KEYS: counter hash, reservations sorted set, then the key's budget counter hash when ARGV[5] is not empty.
 * ARGV: quota ('' for none), tokens, member, reservation ttl (ms), spend limit in micro-dollars ('' for none).
 * Refuses when the budget counter's `spent` has reached the limit (2); otherwise drops lapsed reservations
 * and grants when settled usage plus live reservations is below the quota (1), else refuses (0).
 * Members are `<reservation id>:<tokens>`; the score is when the reservation lapses.
 */
const ADMIT_LUA = `
if ARGV[5] ~= '' then
  local spent = tonumber(redis.call('HGET', KEYS[3], 'spent') or '0')
  if spent >= tonumber(ARGV[5]) then return {2, spent} end
end
if ARGV[1] == '' then return {1, 0} end
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
 * ARGV: tokens, reservation member or '', spend (micro-dollars), then one ttl in seconds per counter (0 = keep).
 */
const SETTLE_LUA = `
local tokens = tonumber(ARGV[1])
local spent = tonumber(ARGV[3])
local n = #KEYS
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[n], ARGV[2])
  n = n - 1
end
for i = 1, n do
  if tokens > 0 then redis.call('HINCRBY', KEYS[i], 'used', tokens) end
  if spent > 0 then redis.call('HINCRBY', KEYS[i], 'spent', spent) end
  local ttl = tonumber(ARGV[3 + i])
  if ttl > 0 and (tokens > 0 or spent > 0) then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
`;

type QuotaCommands = {
  umbQuotaAdmit(numKeys: number, ...args: (string | number)[]): Promise<[number, number]>;
  umbQuotaSettle(numKeys: number, ...args: (string | number)[]): Promise<number>;
};
type QuotaPipeline = ReturnType<Redis['pipeline']> & {
  umbQuotaAdmit(numKeys: number, ...args: (string | number)[]): unknown;
  umbQuotaSettle(numKeys: number, ...args: (string | number)[]): unknown;
};

/**
 * Counters in Redis, shared by every instance: one round trip per admission (the tenant's spend read and the
 * key's script in one pipeline), one pipeline per batch of settlements. A hash per key and window holds
 * `used` tokens and `spent` micro-dollars; a sorted set per key and window holds the live reservations, each
 * lapsing on its own after RESERVATION_TTL_MS; a hash per tenant and window holds the tenant's `spent`.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis & QuotaCommands;

  constructor(redis: Redis) {
    if (!('umbQuotaAdmit' in redis)) redis.defineCommand('umbQuotaAdmit', { lua: ADMIT_LUA });
    if (!('umbQuotaSettle' in redis)) redis.defineCommand('umbQuotaSettle', { lua: SETTLE_LUA });
    this.redis = redis as Redis & QuotaCommands;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const { apiKeyId, ...reserve } = input;
    const result = await this.admit({ apiKeyId, reserve, keyBudget: null, tenantBudget: null });
    return { granted: result.granted, used: result.used };
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const pipeline = this.redis.pipeline() as QuotaPipeline;
    if (input.tenantBudget) pipeline.hget(tenantKey(input.tenantBudget.tenantId, input.tenantBudget.window), 'spent');
    const scripted = input.reserve !== null || input.keyBudget !== null;
    if (scripted) {
      const window = input.reserve?.window ?? input.keyBudget!.window;
      const keys = [counterKey(input.apiKeyId, window), reservationsKey(input.apiKeyId, window)];
      if (input.keyBudget) keys.push(counterKey(input.apiKeyId, input.keyBudget.window));
      pipeline.umbQuotaAdmit(
        keys.length,
        ...keys,
        input.reserve ? input.reserve.quota : '',
        input.reserve ? Math.max(0, Math.round(input.reserve.tokens)) : 0,
        input.reserve?.reservationId ?? '',
        RESERVATION_TTL_MS,
        input.keyBudget ? input.keyBudget.limitMicros : '',
      );
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    let i = 0;
    const tenantSpent = input.tenantBudget ? Number(results[i++][1] ?? 0) : 0;
    const [code, used] = scripted ? (results[i][1] as [number, number]) : [1, 0];
    const reserved = scripted && code === 1 && input.reserve !== null;
    if (input.tenantBudget && tenantSpent >= input.tenantBudget.limitMicros) {
      const release = reserved
        ? { window: input.reserve!.window, tokens: input.reserve!.tokens, reservationId: input.reserve!.reservationId }
        : null;
      return { granted: false, refusedBy: 'tenant_budget', used: tenantSpent, release };
    }
    if (code === 2) return { granted: false, refusedBy: 'key_budget', used: Number(used), release: null };
    if (code === 0) return { granted: false, refusedBy: 'quota', used: Number(used), release: null };
    return { granted: true, used: Number(used) };
  }

  async settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    // With a journal mark, one MULTI: the counters and the mark are applied together or not at all.
    const pipeline = (mark ? this.redis.multi() : this.redis.pipeline()) as QuotaPipeline;
    let commands = 0;
    const now = Date.now();
    for (const s of settlements) {
      const tokens = Math.max(0, Math.round(s.tokens));
      const spent = Math.max(0, Math.round(s.costMicros ?? 0));
      if (tokens <= 0 && spent <= 0 && !s.reservation) continue;
      const keys = s.windows.map((w) => counterKey(s.apiKeyId, w));
      const ttls = s.windows.map((w) => ttlSeconds(w, now));
      if (s.tenantId && spent > 0) {
        // The tenant's counters are on another slot: their own command in the same pipeline.
        for (const w of s.windows) {
          const ttl = ttlSeconds(w, now);
          pipeline.hincrby(tenantKey(s.tenantId, w), 'spent', spent);
          if (ttl > 0) pipeline.expire(tenantKey(s.tenantId, w), ttl);
        }
      }
      let member = '';
      if (s.reservation) {
        keys.push(reservationsKey(s.apiKeyId, s.reservation.window));
        member = `${s.reservation.reservationId}:${Math.max(0, Math.round(s.reservation.tokens))}`;
      }
      pipeline.umbQuotaSettle(keys.length, ...keys, tokens, member, spent, ...ttls);
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
    return this.read(keys.map((k) => [counterKey(k.apiKeyId, k.window), 'used']));
  }

  async spent(keys: SpendKey[]): Promise<number[]> {
    return this.read(
      keys.map((k) => [k.kind === 'api_key' ? counterKey(k.id, k.window) : tenantKey(k.id, k.window), 'spent']),
    );
  }

  private async read(fields: [string, string][]): Promise<number[]> {
    if (fields.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const [key, field] of fields) pipeline.hget(key, field);
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

function tenantKey(tenantId: string, window: QuotaWindow): string {
  return `umb:spend:tenant:{${tenantId}}:${windowId(window)}`;
}

function ttlSeconds(window: QuotaWindow, now: number): number {
  if (!window.end) return 0;
  return Math.max(1, Math.ceil((window.end.getTime() - now) / 1000)) + WINDOW_GRACE_SECONDS;
}
