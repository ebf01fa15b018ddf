import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { WriteBatcher } from '#libs/common';
import { Journal } from '#libs/journal';
import { QUOTA_STORE, QuotaStore, Settlement } from './quota.store';
import { settlementJournal } from './settlement-journal';

const SETTLE_LINGER_MS = 5;

/**
 * Writes settlements (real usage and spend, released reservations) in batches, after the response.
 * Remembers the last settlement queued per key and per tenant, so that the next admission of that key on
 * this instance can wait for it: a request is never refused for a reservation that was released a moment
 * ago, nor admitted past a budget that a settled request here had reached.
 */
@Injectable()
export class QuotaSettler implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(QuotaSettler.name);
  private readonly batcher: WriteBatcher<Settlement>;
  /** `k:<api key id>` and `t:<tenant id>` → the last sequence number queued for it. */
  private readonly lastSeq = new Map<string, number>();

  constructor(
    @Inject(QUOTA_STORE) private readonly store: QuotaStore,
    @Optional() journal?: Journal,
  ) {
    // A short linger batches the writes of busy keys; an admission or a reader waiting cuts it short.
    // Each settlement is in the crash journal before the answer leaves (see settlement-journal.ts).
    this.batcher = new WriteBatcher('quota settlements', (items, mark) => store.settle(items, mark), this.logger, {
      lingerMs: SETTLE_LINGER_MS,
      journal: journal?.channel(settlementJournal(store)),
    });
    this.batcher.onDone = (items) => {
      for (const { item, seq } of items)
        for (const id of idsOf(item)) if (this.lastSeq.get(id) === seq) this.lastSeq.delete(id);
    };
  }

  add(settlement: Settlement): void {
    const seq = this.batcher.add(settlement);
    for (const id of idsOf(settlement)) this.lastSeq.set(id, seq);
  }

  /** Resolves once the settlements of `apiKeyId` queued so far are written (null when there are none). */
  settled(apiKeyId: string): Promise<void> | null {
    return this.waitFor(`k:${apiKeyId}`);
  }

  /** Resolves once the settlements of any key of the tenant queued so far are written (null when none). */
  settledTenant(tenantId: string): Promise<void> | null {
    return this.waitFor(`t:${tenantId}`);
  }

  /** Everything added so far is written (or given up on), through the store's own memory to its database. */
  async drain(): Promise<void> {
    await this.batcher.drain();
    await this.store.flush?.();
  }

  private waitFor(id: string): Promise<void> | null {
    const seq = this.lastSeq.get(id);
    return seq === undefined || this.batcher.isDone(seq) ? null : this.batcher.waitFor(seq);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    // Requests that finished while the server was closing.
    await this.drain().catch(() => undefined);
  }
}

function idsOf(s: Settlement): string[] {
  return s.tenantId ? [`k:${s.apiKeyId}`, `t:${s.tenantId}`] : [`k:${s.apiKeyId}`];
}
