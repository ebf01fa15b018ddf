/** A hit moves its entry to the young end at most this often: recency to the second is enough to evict. */
const TOUCH_EVERY_MS = 1000;

/**
 * A small least-recently-used map with per-entry expiry, for in-process caches on the request path
 * (verified tokens, seen sessions). Map keeps insertion order, so the first key is the oldest. A hot
 * entry is re-inserted at most once a second, not on every hit (a delete and a set of a long key each).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number; touchedAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly defaultTtlMs: number,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = Date.now();
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (now - entry.touchedAt >= TOUCH_EVERY_MS) {
      entry.touchedAt = now;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V, ttlMs = this.defaultTtlMs): void {
    this.entries.delete(key);
    const now = Date.now();
    this.entries.set(key, { value, expiresAt: now + ttlMs, touchedAt: now });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Removes every entry whose value matches, e.g. all cached credentials of one key id. */
  deleteWhere(predicate: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
