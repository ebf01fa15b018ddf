import { Injectable, Logger, Optional } from '@nestjs/common';
import { LruCache } from '#libs/common';
import { MetricsService } from '#libs/metrics';
import { readKeySpend, type KeySpend } from '../client/key-usage';
import { OpenRouterClient } from '../client/openrouter.client';

/** A value younger than this is served without asking OpenRouter again. */
const FRESH_MS = 60_000;
/** Stale-if-error: a value this old is still shown while OpenRouter fails; older, it is unknown (null). */
const KEEP_MS = 15 * 60_000;

interface Entry {
  spend: KeySpend | null;
  fetchedAt: number;
  /** Last attempt, successful or not: a failing OpenRouter is asked at most once per FRESH_MS per key. */
  triedAt: number;
}

/**
 * Each OpenRouter key's spend, read from OpenRouter in the background. `peek` never waits: it answers what
 * is known (or null) and, when that is older than a minute, starts one refresh per key (single flight).
 * So `/api/users/me` stays as fast as its snapshot whatever OpenRouter does.
 */
@Injectable()
export class KeySpendCache {
  private readonly logger = new Logger(KeySpendCache.name);
  private readonly entries = new LruCache<string, Entry>(50_000, KEEP_MS);
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly client: OpenRouterClient,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** The key's last known spend, or null; refreshes it in the background when due. */
  peek(hash: string | null | undefined): KeySpend | null {
    if (!hash || !this.client.provisioningConfigured) return null;
    const now = Date.now();
    const entry = this.entries.get(hash);
    const fresh = entry !== undefined && entry.spend !== null && now - entry.fetchedAt < FRESH_MS;
    this.metrics?.cacheLookup('key_spend', fresh);
    if (!entry || now - entry.triedAt >= FRESH_MS) this.refresh(hash, entry);
    return entry?.spend && now - entry.fetchedAt < KEEP_MS ? entry.spend : null;
  }

  /** The key's last known spend (as peek, but never asks OpenRouter), or null. */
  known(hash: string): KeySpend | null {
    const entry = this.entries.get(hash);
    return entry?.spend && Date.now() - entry.fetchedAt < KEEP_MS ? entry.spend : null;
  }

  private refresh(hash: string, previous: Entry | undefined): void {
    if (this.inFlight.has(hash)) return;
    this.inFlight.add(hash);
    const triedAt = Date.now();
    // Marked tried at once, so that a failure is not retried by every request meanwhile.
    this.entries.set(hash, { spend: previous?.spend ?? null, fetchedAt: previous?.fetchedAt ?? 0, triedAt });
    readKeySpend(this.client, hash)
      .then((spend) => this.entries.set(hash, { spend, fetchedAt: Date.now(), triedAt }))
      .catch((err: unknown) => {
        this.logger.debug(`Spend of key ${hash} unavailable: ${(err as { code?: string })?.code ?? 'error'}`);
      })
      .finally(() => this.inFlight.delete(hash));
  }
}
