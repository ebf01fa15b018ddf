import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { WriteBatcher } from '#libs/common';
import { Journal } from '#libs/journal';
import { QUOTA_STORE, QuotaStore, Settlement } from './quota.store';
import { settlementJournal } from './settlement-journal';

const SETTLE_LINGER_MS = 5;

/**
 * Writes settlements (real usage, released reservations) in batches, after the response. Remembers the
 * last settlement queued per key, so that the next admission of that key on this instance can wait for
 * it: a request is never refused for a reservation that was released a moment ago.
 */
@Injectable()
export class QuotaSettler implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(QuotaSettler.name);
  private readonly batcher: WriteBatcher<Settlement>;
  private readonly lastSeqByKey = new Map<string, number>();

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
        if (this.lastSeqByKey.get(item.apiKeyId) === seq) this.lastSeqByKey.delete(item.apiKeyId);
    };
  }

  add(settlement: Settlement): void {
    this.lastSeqByKey.set(settlement.apiKeyId, this.batcher.add(settlement));
  }

  /** Resolves once the settlements of `apiKeyId` queued so far are written (at once when there are none). */
  settled(apiKeyId: string): Promise<void> | null {
    const seq = this.lastSeqByKey.get(apiKeyId);
    return seq === undefined || this.batcher.isDone(seq) ? null : this.batcher.waitFor(seq);
  }

  /** Everything added so far is written (or given up on), through the store's own memory to its database. */
  async drain(): Promise<void> {
    await this.batcher.drain();
    await this.store.flush?.();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    // Requests that finished while the server was closing.
    await this.drain().catch(() => undefined);
  }
}
