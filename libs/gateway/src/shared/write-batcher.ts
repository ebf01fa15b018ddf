import { Logger } from '@nestjs/common';

const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;
/** Beyond this many waiting items (a long database outage) the oldest are dropped, so memory stays bounded. */
const MAX_QUEUED = 100_000;

interface Entry<T> {
  item: T;
  seq: number;
  attempts: number;
}

/**
 * Collects items written on the request path and writes them in batches, one write at a time, off the
 * response path: under load a batch grows instead of each request paying a round trip. A failed batch
 * is retried a few times (a database blip), then dropped with an error log. `drain()` lets readers see
 * everything written before they asked (read-your-writes within this process).
 */
export class WriteBatcher<T> {
  private queue: Entry<T>[] = [];
  private nextSeq = 1;
  /** Every item with a sequence number up to this one is written or given up on (items go in order). */
  private doneSeq = 0;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private running: Promise<void> | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly name: string,
    private readonly write: (items: T[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly maxBatch = 500,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** Queues an item; returns its sequence number, for `waitFor`. */
  add(item: T): number {
    const seq = this.nextSeq++;
    this.queue.push({ item, seq, attempts: 0 });
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_QUEUED);
      this.logger.error(`${this.name}: ${dropped.length} item(s) dropped, the write queue is full`);
      this.done(dropped);
    }
    this.schedule();
    return seq;
  }

  /** True once the item `seq` (and every one before it) is written or given up on. */
  isDone(seq: number): boolean {
    return seq <= this.doneSeq;
  }

  /** Resolves once the item `seq` (and every one before it) is written or given up on. */
  waitFor(seq: number): Promise<void> {
    if (this.isDone(seq)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Called with each batch once it is written or given up on. */
  onDone: ((items: { item: T; seq: number }[]) => void) | null = null;

  /** Resolves once every item added before the call has been written or given up on. */
  async drain(): Promise<void> {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    while (this.queue.length > 0 || this.running) {
      if (!this.running) this.kick();
      await this.running;
    }
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    // setImmediate: items added by one burst of I/O callbacks share a write.
    setImmediate(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = this.write(batch.map((e) => e.item))
      .then(() => this.done(batch))
      .catch((err: unknown) => this.failed(batch, err))
      .finally(() => {
        this.running = null;
        if (this.queue.length > 0) this.schedule();
      });
  }

  private done(batch: Entry<T>[]): void {
    if (batch.length === 0) return;
    this.doneSeq = Math.max(this.doneSeq, ...batch.map((e) => e.seq));
    this.onDone?.(batch);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= this.doneSeq);
    this.waiters = this.waiters.filter((w) => w.seq > this.doneSeq);
    for (const w of ready) w.resolve();
  }

  private failed(batch: Entry<T>[], err: unknown): void {
    const e = err as { code?: string; message?: string };
    const why = e?.code ?? e?.message ?? 'error';
    const retry = batch.filter((entry) => ++entry.attempts < MAX_ATTEMPTS);
    const lost = batch.filter((entry) => entry.attempts >= MAX_ATTEMPTS);
    if (lost.length > 0) {
      this.logger.error(`${this.name}: writing ${lost.length} item(s) failed ${MAX_ATTEMPTS} times (${why}); they are lost`);
      // Nothing queued before a lost item is still waiting (a batch is retried whole), so it counts as done.
      if (retry.length === 0) this.done(lost);
    }
    if (retry.length === 0) return;
    this.logger.warn(`${this.name}: writing ${retry.length} item(s) failed (${why}); retrying`);
    this.queue.unshift(...retry);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, RETRY_DELAY_MS);
    this.retryTimer.unref();
  }
}
