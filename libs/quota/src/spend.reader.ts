import { Inject, Injectable } from '@nestjs/common';
import { QuotaPeriod, windowOf } from './quota-period';
import { QuotaSettler } from './quota-settler';
import { fromMicros, QUOTA_STORE, QuotaStore } from './quota.store';

/** Whose spend: an API key's or a tenant's (all its keys'), in its budget period. */
export interface SpendSubject {
  kind: 'api_key' | 'tenant';
  id: string;
  period: QuotaPeriod;
}

/**
 * `spent_usd` of keys and tenants in their current budget period (UTC day, UTC month, or all time), from
 * the counters the gateway settles into. This process's queued settlements of those keys and tenants are
 * written first, so a response right after a completion already counts it. One round trip for all.
 */
@Injectable()
export class SpendReader {
  constructor(
    @Inject(QUOTA_STORE) private readonly store: QuotaStore,
    private readonly settler: QuotaSettler,
  ) {}

  async spentUsd(subjects: SpendSubject[], at = new Date()): Promise<number[]> {
    if (subjects.length === 0) return [];
    const pending = subjects
      .map((s) => (s.kind === 'api_key' ? this.settler.settled(s.id) : this.settler.settledTenant(s.id)))
      .filter((p): p is Promise<void> => p !== null);
    if (pending.length > 0) await Promise.all(pending);
    const micros = await this.store.spent(
      subjects.map((s) => ({ kind: s.kind, id: s.id, window: windowOf(s.period, at) })),
    );
    return micros.map(fromMicros);
  }
}
