import { Logger } from '@nestjs/common';

const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;
/** Beyond this many waiting items (a long database outage) the oldest are dropped, so memory stays bounded. */
const MAX_QUEUED = 100_000;

interface Entry<T> {
  item: T;
  seq: number;
  attempts: number;
  /** Where the journal keeps the item (null: not journaled). */
  position: number | null;
}

/** How far one journal's items of one kind are written: kept by a consumer atomically with what it writes. */
export interface JournalMark {
  /** The journal (one process's). */
  journal: string;
  channel: string;
  position: number;
}

/**
 * A crash-safe log of a batcher's items (libs/journal): each item is kept there before `add` returns, so
 * that a process killed before the batch is written loses nothing; the next start writes what is left.
 */
export interface BatchJournal<T> {
  /** Keeps the item now (synchronously); its position, or null when there is nothing to keep. */
  append(item: T): number | null;
  /** Every journaled item up to `position` is written: the next start must not write them again. */
  written(position: number): void;
  /** The mark of `position`, for a write that records it with its items (see JournalMark). */
  mark(position: number): JournalMark;
  /** Items given up on (or dropped): kept for the next start to write. */
  carry(items: T[]): void;
}

export interface WriteBatcherOptions<T = unknown> {
  /** Most items per write. */
  maxBatch?: number;
  /**
   * How long a first item waits for others before the write (0: the next turn of the event loop). A
   * reader waiting for an item (`waitFor`, `drain`) cuts the wait short.
   */
  lingerMs?: number;
  /** Keeps each item in a crash-safe journal until it is written. */
  journal?: BatchJournal<T>;
}

/**
 * Collects items written on the request path and writes them in batches, one write at a time, off the
 * response path: under load a batch grows instead of each request paying a round trip. A failed batch
 * is retried a few times (a database blip), then dropped with an error log. `waitFor` and `drain` let
 * readers see what was written before they asked (read-your-writes within this process).
 */
export class WriteBatcher<T> {
  /** Called with each batch once it is written or given up on. */
  onDone: ((items: { item: T; seq: number }[]) => void) | null = null;

  private queue: Entry<T>[] = [];
  private nextSeq = 1;
  /** Every item with a sequence number up to this one is written or given up on (items go in order). */
  private doneSeq = 0;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private running: Promise<void> | null = null;
  private timer: { kind: 'timeout'; handle: NodeJS.Timeout } | { kind: 'immediate'; handle: NodeJS.Immediate } | null =
    null;
  private retrying = false;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly journal: BatchJournal<T> | null;

  constructor(
    private readonly name: string,
    /** `mark`: where the batch's items stand in the journal (null without one), for writers that record it. */
    private readonly write: (items: T[], mark: JournalMark | null) => Promise<void>,
    private readonly logger: Logger,
    options: WriteBatcherOptions<T> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.lingerMs = options.lingerMs ?? 0;
    this.journal = options.journal ?? null;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues an item; returns its sequence number, for `waitFor`. */
  add(item: T): number {
    const seq = this.nextSeq++;
    const position = this.journal ? this.journal.append(item) : null;
    this.queue.push({ item, seq, attempts: 0, position });
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_QUEUED);
      this.logger.error(
        `${this.name}: ${dropped.length} item(s) dropped, the write queue is full${this.journal ? ' (kept in the journal for the next start)' : ''}`,
      );
      this.journal?.carry(dropped.map((e) => e.item));
      this.done(dropped);
    }
    if (this.queue.length >= this.maxBatch && !this.retrying)
      this.kick(); // a full batch goes at once
    else this.flushSoon(this.lingerMs);
    return seq;
  }

  /** True once the item `seq` (and every one before it) is written or given up on. */
  isDone(seq: number): boolean {
    return seq <= this.doneSeq;
  }

  /** Resolves once the item `seq` (and every one before it) is written or given up on; writes now. */
  waitFor(seq: number): Promise<void> {
    if (this.isDone(seq)) return Promise.resolve();
    const promise = new Promise<void>((resolve) => this.waiters.push({ seq, resolve }));
    this.flushNow();
    return promise;
  }

  /** Resolves once every item added before the call has been written or given up on. */
  async drain(): Promise<void> {
    const last = this.nextSeq - 1;
    while (!this.isDone(last)) {
      this.flushNow();
      if (this.running) await this.running;
      else if (!this.isDone(last)) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.running || this.timer || this.retrying) return;
    const fire = () => {
      this.timer = null;
      this.kick();
    };
    // setImmediate: items added by one burst of I/O callbacks share a write.
    this.timer =
      delayMs > 0
        ? { kind: 'timeout', handle: setTimeout(fire, delayMs).unref() }
        : { kind: 'immediate', handle: setImmediate(fire) };
  }

  /** A reader is waiting: no lingering, and no waiting out a retry delay either. */
  private flushNow(): void {
    this.clearTimer();
    this.retrying = false;
    this.kick();
  }

  private clearTimer(): void {
    if (!this.timer) return;
    if (this.timer.kind === 'timeout') clearTimeout(this.timer.handle);
    else clearImmediate(this.timer.handle);
    this.timer = null;
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    this.clearTimer();
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = this.write(
      batch.map((e) => e.item),
      this.markOf(batch),
    )
      .then(() => {
        this.journalWritten(batch);
        this.done(batch);
      })
      .catch((err: unknown) => this.failed(batch, err))
      .finally(() => {
        this.running = null;
        if (this.queue.length === 0 || this.retrying) return;
        // Readers are waiting, or a full batch is ready: go on at once; otherwise linger again.
        if (this.waiters.length > 0 || this.queue.length >= this.maxBatch) this.kick();
        else this.flushSoon(this.lingerMs);
      });
  }

  /** Items go in order: the last journaled item of a written batch is the journal's checkpoint. */
  private journalWritten(batch: Entry<T>[]): void {
    const position = lastPosition(batch);
    if (position !== null) this.journal!.written(position);
  }

  private markOf(batch: Entry<T>[]): JournalMark | null {
    const position = lastPosition(batch);
    return position === null ? null : this.journal!.mark(position);
  }

  private done(batch: Entry<T>[]): void {
    if (batch.length === 0) return;
    this.doneSeq = Math.max(this.doneSeq, batch[batch.length - 1].seq);
    this.onDone?.(batch);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= this.doneSeq);
    this.waiters = this.waiters.filter((w) => w.seq > this.doneSeq);
    for (const w of ready) w.resolve();
  }

  private failed(batch: Entry<T>[], err: unknown): void {
    const e = err as { code?: string; message?: string };
    const why = e?.code ?? e?.message ?? 'error';
    for (const entry of batch) entry.attempts++;
    // Older items have had at least as many attempts as newer ones: the lost ones come first.
    const lost = batch.filter((entry) => entry.attempts >= MAX_ATTEMPTS);
    const retry = batch.filter((entry) => entry.attempts < MAX_ATTEMPTS);
    if (lost.length > 0) {
      this.logger.error(
        `${this.name}: writing ${lost.length} item(s) failed ${MAX_ATTEMPTS} times (${why}); ${this.journal ? 'kept in the journal for the next start' : 'they are lost'}`,
      );
      this.journal?.carry(lost.map((e) => e.item));
      this.done(lost);
    }
    if (retry.length === 0) return;
    this.logger.warn(`${this.name}: writing ${retry.length} item(s) failed (${why}); retrying`);
    this.queue.unshift(...retry);
    this.retrying = true;
    this.clearTimer();
    this.timer = {
      kind: 'timeout',
      handle: setTimeout(() => {
        this.timer = null;
        this.retrying = false;
        this.kick();
      }, RETRY_DELAY_MS).unref(),
    };
  }
}

function lastPosition(batch: Entry<unknown>[]): number | null {
  for (let i = batch.length - 1; i >= 0; i--) if (batch[i].position !== null) return batch[i].position;
  return null;
}
