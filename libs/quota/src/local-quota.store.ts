import { Logger } from '@nestjs/common';
import type { JournalMark } from '#libs/common';
import type { QuotaWindow } from './quota-period';
import { windowId } from './quota-period';
import { PostgresQuotaStore } from './postgres-quota.store';
import type { KeyCounterDelta, TenantSpendDelta } from './quota-counter.repository';
import {
  AdmitInput,
  AdmitResult,
  QuotaStore,
  RESERVATION_TTL_MS,
  ReserveInput,
  ReserveResult,
  Settlement,
  SpendKey,
} from './quota.store';

/** Settled usage waits this long in memory before it is written, summed per counter. */
const DEFAULT_FLUSH_EVERY_MS = 1_000;
/** Counters with nothing pending nor reserved are forgotten after this long unused (read again when needed). */
const IDLE_MS = 10 * 60_000;

/** One counted amount: what PostgreSQL holds (read once, then moved on by this store's own writes), what is settled here but not written yet, and what is being written now. */
interface Amount {
  base: number;
  pending: number;
  writing: number;
}

interface KeyCounter {
  readonly apiKeyId: string;
  readonly window: QuotaWindow;
  readonly tokens: Amount;
  readonly spent: Amount;
  /** Live reservations: id → tokens and when they lapse. */
  readonly reservations: Map<string, { tokens: number; until: number }>;
  reserved: number;
  touched: number;
}

interface TenantCounter {
  readonly tenantId: string;
  readonly window: QuotaWindow;
  readonly spent: Amount;
  touched: number;
}

export interface LocalQuotaStoreOptions {
  flushEveryMs?: number;
  logger?: Logger;
}

/**
 * The quota and spend counters of a single instance (no REDIS_URL): admission and settlement happen in
 * memory (exact: the checks and a reservation are one synchronous step), and settled usage is written to
 * PostgreSQL in batches, one statement per flush however many requests finished. Nothing is written on the
 * request path. A counter is read from PostgreSQL once, when first needed. Several instances sharing a
 * database must use Redis: this store sees only its own process.
 */
export class LocalQuotaStore implements QuotaStore {
  readonly kind = 'postgres' as const;
  private readonly keys = new Map<string, KeyCounter>();
  private readonly tenants = new Map<string, TenantCounter>();
  private readonly loading = new Map<string, Promise<KeyCounter | TenantCounter>>();
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
    const { apiKeyId, ...reserve } = input;
    const result = await this.admit({ apiKeyId, reserve, keyBudget: null, tenantBudget: null });
    return { granted: result.granted, used: result.used };
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    // Every counter is in memory before the decision, which then runs without yielding: atomic.
    const [tenant, keyBudget, quota] = await Promise.all([
      input.tenantBudget ? this.tenantCounter(input.tenantBudget.tenantId, input.tenantBudget.window) : null,
      input.keyBudget ? this.keyCounter(input.apiKeyId, input.keyBudget.window) : null,
      input.reserve ? this.keyCounter(input.apiKeyId, input.reserve.window) : null,
    ]);
    const now = Date.now();
    if (tenant && input.tenantBudget) {
      tenant.touched = now;
      const spent = total(tenant.spent);
      if (spent >= input.tenantBudget.limitMicros)
        return { granted: false, refusedBy: 'tenant_budget', used: spent, release: null };
    }
    if (keyBudget && input.keyBudget) {
      keyBudget.touched = now;
      const spent = total(keyBudget.spent);
      if (spent >= input.keyBudget.limitMicros)
        return { granted: false, refusedBy: 'key_budget', used: spent, release: null };
    }
    if (!quota || !input.reserve) return { granted: true, used: 0 };
    quota.touched = now;
    dropLapsed(quota, now);
    const used = total(quota.tokens);
    if (used + quota.reserved >= input.reserve.quota)
      return { granted: false, refusedBy: 'quota', used, release: null };
    const tokens = Math.max(0, Math.round(input.reserve.tokens));
    quota.reservations.set(input.reserve.reservationId, { tokens, until: now + RESERVATION_TTL_MS });
    quota.reserved += tokens;
    return { granted: true, used };
  }

  async settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    for (const s of settlements) {
      if (s.reservation) {
        const c = this.keys.get(idOf(s.apiKeyId, s.reservation.window));
        const held = c?.reservations.get(s.reservation.reservationId);
        if (c && held) {
          c.reservations.delete(s.reservation.reservationId);
          c.reserved -= held.tokens;
        }
      }
      const tokens = Math.max(0, s.tokens);
      const spent = s.costMicros ?? 0;
      if (tokens <= 0 && spent <= 0) continue;
      for (const w of s.windows) {
        const c = await this.keyCounter(s.apiKeyId, w);
        c.tokens.pending += tokens;
        c.spent.pending += spent;
        c.touched = Date.now();
        if (s.tenantId && spent > 0) {
          const t = await this.tenantCounter(s.tenantId, w);
          t.spent.pending += spent;
          t.touched = Date.now();
        }
      }
    }
    if (mark) this.marks.set(`${mark.journal}|${mark.channel}`, mark);
    this.flushSoon();
  }

  journalMark(journal: string, channel: string): Promise<number> {
    return this.db.journalMark(journal, channel);
  }

  written(): Promise<void> {
    return new Promise((resolve) => {
      this.writtenWaiters.push(resolve);
      this.flushSoon();
    });
  }

  async used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]> {
    await this.preload(keys.map((k) => ({ kind: 'api_key', id: k.apiKeyId, window: k.window })));
    const counters = await Promise.all(keys.map((k) => this.keyCounter(k.apiKeyId, k.window)));
    return counters.map((c) => total(c.tokens));
  }

  async spent(keys: SpendKey[]): Promise<number[]> {
    await this.preload(keys);
    const counters = await Promise.all(
      keys.map((k) => (k.kind === 'api_key' ? this.keyCounter(k.id, k.window) : this.tenantCounter(k.id, k.window))),
    );
    return counters.map((c) => total(c.spent));
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
    const keyDeltas: KeyCounterDelta[] = [];
    const tenantDeltas: TenantSpendDelta[] = [];
    const amounts: Amount[] = [];
    const now = Date.now();
    for (const [id, c] of this.keys) {
      if (c.tokens.pending > 0 || c.spent.pending > 0) {
        keyDeltas.push({
          apiKeyId: c.apiKeyId,
          window: c.window,
          used: startWriting(c.tokens),
          spentMicros: startWriting(c.spent),
          release: 0,
        });
        amounts.push(c.tokens, c.spent);
      } else if (c.reserved === 0 && idle(c.tokens, c.spent) && now - c.touched > IDLE_MS) {
        this.keys.delete(id);
      }
    }
    for (const [id, t] of this.tenants) {
      if (t.spent.pending > 0) {
        tenantDeltas.push({ tenantId: t.tenantId, window: t.window, spentMicros: startWriting(t.spent) });
        amounts.push(t.spent);
      } else if (idle(t.spent) && now - t.touched > IDLE_MS) {
        this.tenants.delete(id);
      }
    }
    if (amounts.length === 0 && marks.length === 0) return waiters.forEach((resolve) => resolve());
    try {
      await this.db.write(keyDeltas, tenantDeltas, marks);
      for (const a of amounts) {
        a.base += a.writing;
        a.writing = 0;
      }
      waiters.forEach((resolve) => resolve());
    } catch (err) {
      this.writtenWaiters.unshift(...waiters);
      for (const m of marks)
        if (!this.marks.has(`${m.journal}|${m.channel}`)) this.marks.set(`${m.journal}|${m.channel}`, m);
      // Kept in memory (still counted for admissions) and written at the next flush.
      for (const a of amounts) {
        a.pending += a.writing;
        a.writing = 0;
      }
      this.logger.warn(`Writing quota counters failed, retrying: ${(err as { code?: string })?.code ?? 'error'}`);
      this.flushSoon();
    }
  }

  /** Counters not in memory yet are read in one query per kind (a page of API keys), not one each. */
  private async preload(keys: SpendKey[]): Promise<void> {
    const missing = (kind: SpendKey['kind']) =>
      keys.filter((k) => {
        if (k.kind !== kind) return false;
        const id = kind === 'api_key' ? idOf(k.id, k.window) : tenantIdOf(k.id, k.window);
        return !(kind === 'api_key' ? this.keys : this.tenants).has(id) && !this.loading.has(id);
      });
    const keysMissing = missing('api_key');
    const tenantsMissing = missing('tenant');
    const [keyRows, tenantRows] = await Promise.all([
      keysMissing.length > 1 ? this.db.keyCounters(keysMissing.map((k) => ({ apiKeyId: k.id, window: k.window }))) : [],
      tenantsMissing.length > 1
        ? this.db.tenantSpent(tenantsMissing.map((k) => ({ tenantId: k.id, window: k.window })))
        : [],
    ]);
    keyRows.forEach((row, i) => {
      const k = keysMissing[i];
      if (!this.keys.has(idOf(k.id, k.window)))
        this.keys.set(idOf(k.id, k.window), newKeyCounter(k.id, k.window, row.used, row.spentMicros));
    });
    tenantRows.forEach((spent, i) => {
      const k = tenantsMissing[i];
      if (!this.tenants.has(tenantIdOf(k.id, k.window)))
        this.tenants.set(tenantIdOf(k.id, k.window), newTenantCounter(k.id, k.window, spent));
    });
  }

  /** A key's counter, read once; concurrent first uses share the read. */
  private keyCounter(apiKeyId: string, window: QuotaWindow): KeyCounter | Promise<KeyCounter> {
    const id = idOf(apiKeyId, window);
    return (
      this.keys.get(id) ??
      this.load(id, async () => {
        const [row] = await this.db.keyCounters([{ apiKeyId, window }]);
        const existing = this.keys.get(id);
        if (existing) return existing;
        const c = newKeyCounter(apiKeyId, window, row.used, row.spentMicros);
        this.keys.set(id, c);
        return c;
      })
    );
  }

  private tenantCounter(tenantId: string, window: QuotaWindow): TenantCounter | Promise<TenantCounter> {
    const id = tenantIdOf(tenantId, window);
    return (
      this.tenants.get(id) ??
      this.load(id, async () => {
        const [spent] = await this.db.tenantSpent([{ tenantId, window }]);
        const existing = this.tenants.get(id);
        if (existing) return existing;
        const c = newTenantCounter(tenantId, window, spent);
        this.tenants.set(id, c);
        return c;
      })
    );
  }

  private load<T extends KeyCounter | TenantCounter>(id: string, read: () => Promise<T>): Promise<T> {
    let loading = this.loading.get(id) as Promise<T> | undefined;
    if (!loading) {
      loading = read().finally(() => this.loading.delete(id));
      this.loading.set(id, loading);
    }
    return loading;
  }
}

const amount = (base: number): Amount => ({ base, pending: 0, writing: 0 });
const total = (a: Amount) => a.base + a.pending + a.writing;
const idle = (...amounts: Amount[]) => amounts.every((a) => a.pending === 0 && a.writing === 0);

function startWriting(a: Amount): number {
  a.writing = a.pending;
  a.pending = 0;
  return a.writing;
}

function newKeyCounter(apiKeyId: string, window: QuotaWindow, used: number, spent: number): KeyCounter {
  return {
    apiKeyId,
    window,
    tokens: amount(used),
    spent: amount(spent),
    reservations: new Map(),
    reserved: 0,
    touched: Date.now(),
  };
}

function newTenantCounter(tenantId: string, window: QuotaWindow, spent: number): TenantCounter {
  return { tenantId, window, spent: amount(spent), touched: Date.now() };
}

function idOf(apiKeyId: string, window: QuotaWindow): string {
  return `${apiKeyId}|${windowId(window)}`;
}

function tenantIdOf(tenantId: string, window: QuotaWindow): string {
  return `tenant:${tenantId}|${windowId(window)}`;
}

/** Reservations of requests that never settled (none should, in one process) stop counting after their lifetime. */
function dropLapsed(c: KeyCounter, now: number): void {
  if (c.reserved === 0) return;
  for (const [id, r] of c.reservations) {
    if (r.until > now) continue;
    c.reservations.delete(id);
    c.reserved -= r.tokens;
  }
}
