import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { QuotaPeriod, QuotaWindow, windowsAt } from './quota-period';
import { QuotaSettler } from './quota-settler';
import { QUOTA_STORE, QuotaStore } from './quota.store';

/** A key's quota settings: `tokenQuota` null means unlimited. */
export interface QuotaPolicy {
  tokenQuota: number | null;
  period: QuotaPeriod;
}

/** What a request holds from admission until it settles; settling twice does nothing. */
export interface QuotaTicket {
  readonly apiKeyId: string;
  readonly windows: QuotaWindow[];
  readonly reservation: { window: QuotaWindow; reservationId: string; tokens: number } | null;
  settled: boolean;
}

export type QuotaAdmission =
  { granted: true; ticket: QuotaTicket } | { granted: false; quota: number; period: QuotaPeriod; used: number };

const STORE_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Token quotas per API key: reserve an estimate before forwarding, settle with the real usage after
 * (or release on failure). Keys without a quota skip the reservation but are still counted, so that
 * `tokens_used` is always known.
 */
@Injectable()
export class QuotaService {
  private readonly logger = new Logger(QuotaService.name);
  private lastStoreErrorLog = 0;

  constructor(
    @Inject(QUOTA_STORE) private readonly store: QuotaStore,
    private readonly settler: QuotaSettler,
  ) {}

  async admit(apiKeyId: string, policy: QuotaPolicy, estimate: number, at = new Date()): Promise<QuotaAdmission> {
    const windows = windowsAt(at);
    const open = (reservation: QuotaTicket['reservation']): QuotaAdmission => ({
      granted: true,
      ticket: { apiKeyId, windows, reservation, settled: false },
    });
    if (policy.tokenQuota === null) return open(null);
    if (policy.tokenQuota <= 0) return { granted: false, quota: policy.tokenQuota, period: policy.period, used: 0 };

    // This instance's own settlements of the key first, so that a just-released reservation counts as released.
    const pending = this.settler.settled(apiKeyId);
    if (pending) await pending;
    const window = windows.find((w) => w.period === policy.period)!;
    const reservationId = randomUUID();
    const tokens = Math.max(1, Math.round(estimate));
    let result;
    try {
      result = await this.store.reserve({ apiKeyId, window, quota: policy.tokenQuota, tokens, reservationId });
    } catch (err) {
      // Fail open: an outage of the counter store must not take the gateway down; the user's
      // OpenRouter key still has its own spending limit.
      this.logStoreError(err);
      return open(null);
    }
    if (!result.granted) return { granted: false, quota: policy.tokenQuota, period: policy.period, used: result.used };
    return open({ window, reservationId, tokens });
  }

  /** Counts `tokens` against the key and releases the reservation. Written after the response. */
  settle(ticket: QuotaTicket, tokens: number): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const used = Number.isFinite(tokens) && tokens > 0 ? Math.round(tokens) : 0;
    if (used === 0 && !ticket.reservation) return;
    this.settler.add({
      apiKeyId: ticket.apiKeyId,
      windows: ticket.windows,
      tokens: used,
      reservation: ticket.reservation,
    });
  }

  /** Releases the reservation of a request that used nothing. */
  release(ticket: QuotaTicket): void {
    this.settle(ticket, 0);
  }

  /**
   * Carries a key's usage of the current windows over to another key (a rotation's successor), so that
   * rotating a key does not reset its quota. Call once, when the new key is created.
   */
  async carryOver(fromApiKeyId: string, toApiKeyId: string, at = new Date()): Promise<void> {
    const pending = this.settler.settled(fromApiKeyId);
    if (pending) await pending;
    const windows = windowsAt(at);
    const used = await this.store.used(windows.map((window) => ({ apiKeyId: fromApiKeyId, window })));
    const settlements = windows
      .map((window, i) => ({ apiKeyId: toApiKeyId, windows: [window], tokens: used[i], reservation: null }))
      .filter((s) => s.tokens > 0);
    if (settlements.length > 0) await this.store.settle(settlements);
  }

  private logStoreError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastStoreErrorLog < STORE_ERROR_LOG_INTERVAL_MS) return;
    this.lastStoreErrorLog = now;
    const e = err as { code?: string; message?: string };
    this.logger.warn(
      `Quota store (${this.store.kind}) unavailable, requests are admitted unchecked: ${e?.code ?? e?.message ?? 'error'}`,
    );
  }
}
