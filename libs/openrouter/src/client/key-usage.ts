import type { OpenRouterClient } from './openrouter.client';

/** What a key has spent against its limit, in USD; null where OpenRouter did not say. */
export interface KeySpend {
  usage: number | null;
  limit: number | null;
  limitRemaining: number | null;
}

/**
 * `GET /keys/{hash}` read for its spend (OpenRouter answers `data: {usage, limit, limit_remaining, …}`).
 * `limit_remaining` is derived from the limit when OpenRouter leaves it out; a key without a limit has none.
 */
export async function readKeySpend(client: OpenRouterClient, hash: string): Promise<KeySpend> {
  const key = await client.getKey(hash);
  const limitRemaining =
    key.limitRemaining ?? (key.limit !== null && key.usage !== null ? Math.max(0, key.limit - key.usage) : null);
  return { usage: key.usage, limit: key.limit, limitRemaining };
}
