import type { OpenRouterKey } from './openrouter-key.entity';

/** A row whose key can be used now: active, with a stored (sealed) key. */
export function isUsableKey(row: OpenRouterKey | null): row is OpenRouterKey & { keyEncrypted: string } {
  return Boolean(row && row.status === 'active' && row.keyEncrypted);
}
