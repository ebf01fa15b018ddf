import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MetricsService } from '#libs/metrics';
import { QuotaPeriod, QuotaWindow, windowOf, windowsAt } from './quota-period';
import { QuotaSettler } from './quota-settler';
import { AdmitInput, fromMicros, QUOTA_STORE, QuotaStore, toMicros } from './quota.store';

/** A USD budget per period; `usd` null means none. */
export interface SpendBudget {
  usd: number | null;
  period: QuotaPeriod;
}

/**
 * What a key may use: its token quota (`tokenQuota` null means unlimited), its own USD budget, and its
 * tenant, whose budget all the tenant's keys share. Without `tenant` the tenant's spend is not counted.
 */
export interface QuotaPolicy {
  tokenQuota: number | null;
  period: QuotaPeriod;
  budget?: SpendBudget;
  tenant?: { id: string; budget: SpendBudget };
}

/** What a request holds from admission until it settles; settling twice does nothing. */
export interface QuotaTicket {
  readonly apiKeyId: string;
  /** The key's tenant, whose spend counts the request too (null: not counted). */
  readonly tenantId: string | null;
  readonly windows: QuotaWindow[];
  readonly reservation: { window: QuotaWindow; reservationId: string; tokens: number } | null;
  /** The gateway route, for the spend metric (null: not counted there, e.g. a replay). */
  readonly route: string | null;
  settled: boolean;
}

/** What a finished request used: its tokens and what OpenRouter said it cost (`usage.cost`, USD). */
export interface QuotaCharge {
  tokens: number;
  costUsd: number | null;
}

export type QuotaRefusal =
  | { granted: false; quota: number; period: QuotaPeriod; used: number }
  | { granted: false; budget: 'api_key' | 'tenant'; budgetUsd: number; period: QuotaPeriod; spentUsd: number };

export type QuotaAdmission = { granted: true; ticket: QuotaTicket } | QuotaRefusal;

const STORE_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Token quotas and USD budgets per API key, and USD budgets per tenant: reserve a token estimate and check
 * the spend before forwarding, settle with the real usage and cost after (or release on failure). Keys
 * without limits skip the store at admission but are still counted, so that `tokens_used` and `spent_usd`
 * are always known.
 */
@Injectable()
export class QuotaService {
  private readonly logger = new Logger(QuotaService.name);
  private lastStoreErrorLog = 0;

  constructor(
    @Inject(QUOTA_STORE) private readonly store: QuotaStore,
    private readonly settler: QuotaSettler,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async admit(
    apiKeyId: string,
    policy: QuotaPolicy,
    estimate: number,
    at = new Date(),
    route: string | null = null,
  ): Promise<QuotaAdmission> {
    const windows = windowsAt(at);
    const tenantId = policy.tenant?.id ?? null;
    const open = (reservation: QuotaTicket['reservation']): QuotaAdmission => ({
      granted: true,
      ticket: { apiKeyId, tenantId, windows, reservation, route, settled: false },
    });
    const keyBudget = policy.budget?.usd ?? null;
    const tenantBudget = policy.tenant?.budget.usd ?? null;
    // Limits of zero refuse without I/O.
    if (tenantBudget !== null && tenantBudget <= 0) return budgetRefusal('tenant', policy.tenant!.budget, 0);
    if (keyBudget !== null && keyBudget <= 0) return budgetRefusal('api_key', policy.budget!, 0);
    if (policy.tokenQuota !== null && policy.tokenQuota <= 0)
      return { granted: false, quota: policy.tokenQuota, period: policy.period, used: 0 };
    if (policy.tokenQuota === null && keyBudget === null && tenantBudget === null) return open(null);

    // This instance's own settlements first, so that a just-released reservation counts as released and a
    // just-settled cost as spent.
    const pending = [
      policy.tokenQuota !== null || keyBudget !== null ? this.settler.settled(apiKeyId) : null,
      tenantBudget !== null ? this.settler.settledTenant(tenantId!) : null,
    ].filter((p): p is Promise<void> => p !== null);
    if (pending.length > 0) await Promise.all(pending);

    const window = (period: QuotaPeriod) => windows.find((w) => w.period === period) ?? windowOf(period, at);
    const input: AdmitInput = {
      apiKeyId,
      reserve:
        policy.tokenQuota === null
          ? null
          : {
              window: window(policy.period),
              quota: policy.tokenQuota,
              tokens: Math.max(1, Math.round(estimate)),
              reservationId: randomUUID(),
            },
      keyBudget:
        keyBudget === null ? null : { window: window(policy.budget!.period), limitMicros: toMicros(keyBudget) },
      tenantBudget:
        tenantBudget === null
          ? null
          : { tenantId: tenantId!, window: window(policy.tenant!.budget.period), limitMicros: toMicros(tenantBudget) },
    };
    let result;
    try {
      result = await this.store.admit(input);
    } catch (err) {
      // Fail open: an outage of the counter store must not take the gateway down; the user's
      // OpenRouter key still has its own spending limit.
      this.logStoreError(err);
      return open(null);
    }
    if (result.granted) {
      const r = input.reserve;
      return open(r ? { window: r.window, reservationId: r.reservationId, tokens: r.tokens } : null);
    }
    if (result.release)
      this.settler.add({ apiKeyId, windows: [], tokens: 0, reservation: result.release, tenantId: null });
    switch (result.refusedBy) {
      case 'quota':
        return { granted: false, quota: policy.tokenQuota!, period: policy.period, used: result.used };
      case 'key_budget':
        return budgetRefusal('api_key', policy.budget!, result.used);
      case 'tenant_budget':
        return budgetRefusal('tenant', policy.tenant!.budget, result.used);
    }
  }

  /**
   * Counts what a request used against its key (and the key's tenant) and releases its reservation. Queued
   * and written after the response. The one way usage is counted, so that a journal can replay it.
   */
  settle(ticket: QuotaTicket, charge: QuotaCharge): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const used = Number.isFinite(charge.tokens) && charge.tokens > 0 ? Math.round(charge.tokens) : 0;
    const costMicros = toMicros(charge.costUsd);
    if (costMicros > 0 && ticket.route) this.metrics?.spend(ticket.route, fromMicros(costMicros));
    if (used === 0 && costMicros === 0 && !ticket.reservation) return;
    this.settler.add({
      apiKeyId: ticket.apiKeyId,
      windows: ticket.windows,
      tokens: used,
      reservation: ticket.reservation,
      costMicros,
      tenantId: ticket.tenantId,
    });
  }

  /** Releases the reservation of a request that used nothing. */
  release(ticket: QuotaTicket): void {
    this.settle(ticket, { tokens: 0, costUsd: null });
  }

  /**
   * A ticket without a reservation for a request already answered (a usage record replayed after a crash):
   * settling it counts the record's tokens and cost in the windows of the time it started.
   */
  ticketFor(apiKeyId: string, tenantId: string | null, startedAt: Date): QuotaTicket {
    return { apiKeyId, tenantId, windows: windowsAt(startedAt), reservation: null, route: null, settled: false };
  }

  /**
   * Carries a key's usage and spend of the current windows over to another key (a rotation's successor), so
   * that rotating a key resets neither its quota nor its budget. The tenant's spend is unchanged (it already
   * holds both). Call once, when the new key is created.
   */
  async carryOver(fromApiKeyId: string, toApiKeyId: string, at = new Date()): Promise<void> {
    const pending = this.settler.settled(fromApiKeyId);
    if (pending) await pending;
    const windows = windowsAt(at);
    const [used, spent] = await Promise.all([
      this.store.used(windows.map((window) => ({ apiKeyId: fromApiKeyId, window }))),
      this.store.spent(windows.map((window) => ({ kind: 'api_key' as const, id: fromApiKeyId, window }))),
    ]);
    const settlements = windows
      .map((window, i) => ({
        apiKeyId: toApiKeyId,
        windows: [window],
        tokens: used[i],
        costMicros: spent[i],
        tenantId: null,
        reservation: null,
      }))
      .filter((s) => s.tokens > 0 || s.costMicros > 0);
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

function budgetRefusal(budget: 'api_key' | 'tenant', b: SpendBudget, spentMicros: number): QuotaRefusal {
  return { granted: false, budget, budgetUsd: b.usd ?? 0, period: b.period, spentUsd: fromMicros(spentMicros) };
}
