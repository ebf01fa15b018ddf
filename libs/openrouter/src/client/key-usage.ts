import type { OpenRouterClient } from './openrouter.client';
import type { UpstreamKey } from './openrouter.types';

/** What a key has spent against its limit, in USD; null where OpenRouter did not say. */
export interface KeySpend {
  usage: number | null;
  /** Spent since the start of the current UTC day, week (Monday) and month. */
  usageDaily: number | null;
  usageWeekly: number | null;
  usageMonthly: number | null;
  limit: number | null;
  limitRemaining: number | null;
}

/**
 * `GET /keys/{hash}` read for its spend (OpenRouter answers `data: {usage, usage_daily, …, limit,
 * limit_remaining, …}`).
 */
export async function readKeySpend(client: OpenRouterClient, hash: string): Promise<KeySpend> {
  return spendOf(await client.getKey(hash));
}

/**
 * A key's spend as OpenRouter described it. `limit_remaining` is derived from the limit when OpenRouter leaves
 * it out; a key without a limit has none.
 */
export function spendOf(key: UpstreamKey): KeySpend {
  const limitRemaining =
    key.limitRemaining ?? (key.limit !== null && key.usage !== null ? Math.max(0, key.limit - key.usage) : null);
  return {
    usage: key.usage,
    usageDaily: key.usageDaily,
    usageWeekly: key.usageWeekly,
    usageMonthly: key.usageMonthly,
    limit: key.limit,
    limitRemaining,
  };
}
