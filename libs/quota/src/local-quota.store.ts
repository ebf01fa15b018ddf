import { Logger } from '@nestjs/common';
import type { JournalMark } from '#libs/common';
import type { QuotaWindow } from './quota-period';
import { windowId } from './quota-period';
import { PostgresQuotaStore } from './postgres-quota.store';
import { QuotaStore, RESERVATION_TTL_MS, ReserveInput, ReserveResult, Settlement } from './quota.store';

/** Settled usage waits this long in memory before it is written, summed per counter. */
const DEFAULT_FLUSH_EVERY_MS = 1_000;
/** Counters with nothing pending nor reserved are forgotten after this long unused (read again when needed). */
const IDLE_MS = 10 * 60_000;

interface Counter {
  readonly apiKeyId: string;
  readonly window: QuotaWindow;
  /** What PostgreSQL holds: read once, then moved on by this store's own writes. */
  base: number;
  /** Settled here, not written yet. */
  pending: number;
  /** Being written now. */
  writing: number;
  /** Live reservations: id → tokens and when they lapse. */
  readonly reservations: Map<string, { tokens: number; until: number }>;
  reserved: number;
  touched: number;
}

export interface LocalQuotaStoreOptions {
  flushEveryMs?: number;
  logger?: Logger;
}

/**
 * The quota counters of a single instance (no REDIS_URL): admission and settlement happen in memory
 * (exact: a check and a reservation are one synchronous step), and settled usage is written to
 * PostgreSQL's `quota_counters` in batches, one statement per flush however many requests finished.
 * Nothing is written on the request path. A counter is read from PostgreSQL once, when first needed.
 * Several instances sharing a database must use Redis: this store sees only its own process.
 */
export class LocalQuotaStore implements QuotaStore {
  readonly kind = 'postgres' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly loading = new Map<string, Promise<Counter>>();
  private readonly flushEveryMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Waiting for everything settled before they asked to be in PostgreSQL. */
  private writtenWaiters: (() => void)[] = [];
  /** Journal marks of what is settled here, written with the counters at the next flush. */
  private readonly marks = new Map<string, JournalMark>();

  constructor(
    private readonly db: PostgresQuotaStore,
    options: LocalQuotaStoreOptions = {},
  ) {
    this.flushEveryMs = options.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS;
    this.logger = options.logger ?? new Logger(LocalQuotaStore.name);
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const c = this.counters.get(idOf(input.apiKeyId, input.window)) ?? (await this.load(input.apiKeyId, input.window));
    const now = Date.now();
    c.touched = now;
    dropLapsed(c, now);
    const used = c.base + c.pending + c.writing;
    if (used + c.reserved >= input.quota) return { granted: false, used };
    const tokens = Math.max(0, Math.round(input.tokens));
    c.reservations.set(input.reservationId, { tokens, until: now + RESERVATION_TTL_MS });
    c.reserved += tokens;
    return { granted: true, used };
  }

  async settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    for (const s of settlements) {
      if (s.reservation) {
        const c = this.counters.get(idOf(s.apiKeyId, s.reservation.window));
        const held = c?.reservations.get(s.reservation.reservationId);
        if (c && held) {
          c.reservations.delete(s.reservation.reservationId);
          c.reserved -= held.tokens;
        }
      }
      if (s.tokens <= 0) continue;
      for (const w of s.windows) {
        const c = this.counters.get(idOf(s.apiKeyId, w)) ?? (await this.load(s.apiKeyId, w));
        c.pending += s.tokens;
        c.touched = Date.now();
      }
    }
    if (mark) this.marks.set(`${mark.journal}|${mark.channel}`, mark);
    this.flushSoon();
  }

  journalMark(journal: string, channel: string): Promise<number> {
    return this.db.journalMark(journal, channel);
  }

  async used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]> {
    // Counters not in memory yet are read in one query (a page of API keys), not one each.
    const missing = keys.filter(
      (k) => !this.counters.has(idOf(k.apiKeyId, k.window)) && !this.loading.has(idOf(k.apiKeyId, k.window)),
    );
    if (missing.length > 1) {
      const bases = await this.db.used(missing);
      missing.forEach((k, i) => {
        if (!this.counters.has(idOf(k.apiKeyId, k.window)))
          this.counters.set(idOf(k.apiKeyId, k.window), newCounter(k.apiKeyId, k.window, bases[i]));
      });
    }
    const counters = await Promise.all(
      keys.map((k) => this.counters.get(idOf(k.apiKeyId, k.window)) ?? this.load(k.apiKeyId, k.window)),
    );
    return counters.map((c) => c.base + c.pending + c.writing);
  }

  /** Writes everything settled so far (the shutdown path, and readers that need PostgreSQL up to date). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(() => this.writeOnce());
    return this.writing;
  }

  written(): Promise<void> {
    return new Promise((resolve) => {
      this.writtenWaiters.push(resolve);
      this.flushSoon();
    });
  }

  prune(olderThanDays: number): Promise<number> {
    return this.db.prune(olderThanDays);
  }

  private flushSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.flushEveryMs).unref();
  }

  private async writeOnce(): Promise<void> {
    const waiters = this.writtenWaiters;
    this.writtenWaiters = [];
    const marks = [...this.marks.values()];
    this.marks.clear();
    const batch: Settlement[] = [];
    const written: Counter[] = [];
    const now = Date.now();
    for (const [id, c] of this.counters) {
      if (c.pending > 0) {
        c.writing = c.pending;
        c.pending = 0;
        batch.push({ apiKeyId: c.apiKeyId, windows: [c.window], tokens: c.writing, reservation: null });
        written.push(c);
      } else if (c.reserved === 0 && c.writing === 0 && now - c.touched > IDLE_MS) {
        this.counters.delete(id);
      }
    }
    if (batch.length === 0 && marks.length === 0) return waiters.forEach((resolve) => resolve());
    try {
      await this.db.settleMarked(batch, marks);
      for (const c of written) {
        c.base += c.writing;
        c.writing = 0;
      }
      waiters.forEach((resolve) => resolve());
    } catch (err) {
      this.writtenWaiters.unshift(...waiters);
      for (const m of marks)
        if (!this.marks.has(`${m.journal}|${m.channel}`)) this.marks.set(`${m.journal}|${m.channel}`, m);
      // Kept in memory (still counted for admissions) and written at the next flush.
      for (const c of written) {
        c.pending += c.writing;
        c.writing = 0;
      }
      this.logger.warn(`Writing quota counters failed, retrying: ${(err as { code?: string })?.code ?? 'error'}`);
      this.flushSoon();
    }
  }

  /** Reads a counter once; concurrent first uses share the read. */
  private load(apiKeyId: string, window: QuotaWindow): Promise<Counter> {
    const id = idOf(apiKeyId, window);
    let loading = this.loading.get(id);
    if (!loading) {
      loading = this.db
        .used([{ apiKeyId, window }])
        .then(([base]) => {
          const existing = this.counters.get(id);
          if (existing) return existing;
          const c = newCounter(apiKeyId, window, base);
          this.counters.set(id, c);
          return c;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, loading);
    }
    return loading;
  }
}

function newCounter(apiKeyId: string, window: QuotaWindow, base: number): Counter {
  return { apiKeyId, window, base, pending: 0, writing: 0, reservations: new Map(), reserved: 0, touched: Date.now() };
}

function idOf(apiKeyId: string, window: QuotaWindow): string {
  return `${apiKeyId}|${windowId(window)}`;
}

/** Reservations of requests that never settled (none should, in one process) stop counting after their lifetime. */
function dropLapsed(c: Counter, now: number): void {
  if (c.reserved === 0) return;
  for (const [id, r] of c.reservations) {
    if (r.until > now) continue;
    c.reservations.delete(id);
    c.reserved -= r.tokens;
  }
}
