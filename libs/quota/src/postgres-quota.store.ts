import { Injectable } from '@nestjs/common';
import type { JournalMark } from '#libs/common';
import type { QuotaWindow } from './quota-period';
import { KeyCounterDelta, QuotaCounterRepository, rowId, TenantSpendDelta } from './quota-counter.repository';
import { AdmitInput, AdmitResult, QuotaStore, ReserveInput, ReserveResult, Settlement, SpendKey } from './quota.store';

/**
 * The quota store on PostgreSQL alone: the rules of admission (the budgets read, then the tokens reserved) and of
 * settlement (a batch summed per row, then one statement) over the counters' repository, which it extends so that
 * the in-process store can write through it and read it as it is. On its own it is a complete store too.
 */
@Injectable()
export class PostgresQuotaStore extends QuotaCounterRepository implements QuotaStore {
  readonly kind = 'postgres' as const;

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const used = await this.reserveTokens(input);
    if (used !== null) return { granted: true, used };
    return { granted: false, used: (await this.used([{ apiKeyId: input.apiKeyId, window: input.window }]))[0] };
  }

  /** Spend is only read (it is not reserved), so the budgets are checked before the reservation is taken. */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    const checks: { refusedBy: 'tenant_budget' | 'key_budget'; key: SpendKey; limit: number }[] = [];
    if (input.tenantBudget) {
      const { tenantId, window, limitMicros } = input.tenantBudget;
      checks.push({ refusedBy: 'tenant_budget', key: { kind: 'tenant', id: tenantId, window }, limit: limitMicros });
    }
    if (input.keyBudget) {
      const { window, limitMicros } = input.keyBudget;
      checks.push({
        refusedBy: 'key_budget',
        key: { kind: 'api_key', id: input.apiKeyId, window },
        limit: limitMicros,
      });
    }
    const spent = await this.spent(checks.map((c) => c.key));
    const over = checks.findIndex((c, i) => spent[i] >= c.limit);
    if (over >= 0) return { granted: false, refusedBy: checks[over].refusedBy, used: spent[over], release: null };
    if (!input.reserve) return { granted: true, used: 0 };
    const r = await this.reserve({ apiKeyId: input.apiKeyId, ...input.reserve });
    return r.granted
      ? { granted: true, used: r.used }
      : { granted: false, refusedBy: 'quota', used: r.used, release: null };
  }

  async settle(settlements: Settlement[], mark?: JournalMark | null): Promise<void> {
    // Aggregated per row first: one upsert may not touch a row twice.
    const keys = new Map<string, KeyCounterDelta>();
    const tenants = new Map<string, TenantSpendDelta>();
    const keyRow = (apiKeyId: string, window: QuotaWindow) => {
      const id = rowId(apiKeyId, window);
      let r = keys.get(id);
      if (!r) keys.set(id, (r = { apiKeyId, window, used: 0, spentMicros: 0, release: 0 }));
      return r;
    };
    for (const s of settlements) {
      const spent = s.costMicros ?? 0;
      for (const w of s.windows) {
        if (s.tokens > 0 || spent > 0) {
          const r = keyRow(s.apiKeyId, w);
          r.used += Math.max(0, s.tokens);
          r.spentMicros += spent;
        }
        if (s.tenantId && spent > 0) {
          const id = rowId(s.tenantId, w);
          const t = tenants.get(id) ?? { tenantId: s.tenantId, window: w, spentMicros: 0 };
          t.spentMicros += spent;
          tenants.set(id, t);
        }
      }
      if (s.reservation) keyRow(s.apiKeyId, s.reservation.window).release += s.reservation.tokens;
    }
    await this.write([...keys.values()], [...tenants.values()], mark ? [mark] : []);
  }

  async used(keys: { apiKeyId: string; window: QuotaWindow }[]): Promise<number[]> {
    return (await this.keyCounters(keys)).map((c) => c.used);
  }

  async spent(keys: SpendKey[]): Promise<number[]> {
    const ofKeys = keys.filter((k) => k.kind === 'api_key');
    const ofTenants = keys.filter((k) => k.kind === 'tenant');
    const [k, t] = await Promise.all([
      this.keyCounters(ofKeys.map((x) => ({ apiKeyId: x.id, window: x.window }))),
      this.tenantSpent(ofTenants.map((x) => ({ tenantId: x.id, window: x.window }))),
    ]);
    let ki = 0;
    let ti = 0;
    return keys.map((x) => (x.kind === 'api_key' ? k[ki++].spentMicros : t[ti++]));
  }
}
