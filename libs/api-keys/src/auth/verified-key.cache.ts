import { LruCache } from '#libs/common';
import type { VerifiedKey } from './verified-key';

/** What changed, as published to every instance. */
export type KeyInvalidation = { kind: 'key' | 'tenant' | 'user'; id: string } | { kind: 'all' };

const TTL_MS = 30_000;
const MAX_KEYS = 100_000;
const MAX_UNKNOWN = 20_000;

/**
 * Verified keys by hash, in process, so that the request path does not touch the database. Entries
 * live at most 30 s; any change to a key, its tenant or its user drops them at once (see
 * KeyInvalidationBus), on every instance.
 *
 * Race: a request may read a row just before a change commits and store it just after the change's
 * invalidation arrived. Every invalidation bumps `generation`; a fill stores its row only when the
 * generation is the one it started with, so a stale row never outlives the invalidation.
 */
export class VerifiedKeyCache {
  private readonly keys = new LruCache<string, VerifiedKey>(MAX_KEYS, TTL_MS);
  /** Well-formed keys that match no row, so that guessing does not cost a query each time. */
  private readonly unknown = new LruCache<string, true>(MAX_UNKNOWN, TTL_MS);
  private gen = 0;
  /** False while invalidations may be missed (Redis configured but not subscribed): no caching then. */
  private trusted = true;

  get generation(): number {
    return this.gen;
  }

  /** A cached key, `null` for a known-unknown hash, `undefined` when the database must be asked. */
  get(hash: string): VerifiedKey | null | undefined {
    if (!this.trusted) return undefined;
    const key = this.keys.get(hash);
    if (key) return key;
    return this.unknown.get(hash) ? null : undefined;
  }

  /** Stores what a fill started at `generation` found, unless something was invalidated meanwhile. */
  store(hash: string, generation: number, key: VerifiedKey | null): void {
    if (!this.trusted || generation !== this.gen) return;
    if (key) this.keys.set(hash, key);
    else this.unknown.set(hash, true);
  }

  apply(change: KeyInvalidation): void {
    this.gen++;
    switch (change.kind) {
      case 'key':
        return this.keys.deleteWhere((k) => k.id === change.id);
      case 'tenant':
        return this.keys.deleteWhere((k) => k.tenantId === change.id);
      case 'user':
        return this.keys.deleteWhere((k) => k.userId === change.id);
      case 'all':
        this.keys.clear();
        this.unknown.clear();
        return;
    }
  }

  /** Trust is lost while invalidations can be missed, and regained with an empty cache. */
  setTrusted(trusted: boolean): void {
    if (trusted === this.trusted) return;
    this.apply({ kind: 'all' });
    this.trusted = trusted;
  }
}
