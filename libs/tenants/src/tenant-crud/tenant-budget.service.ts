import { Injectable } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { AuditService } from '#libs/audit';
import { QuotaPeriod, SpendReader } from '#libs/quota';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { requireTenantId } from '#libs/common';
import type { AuditScope } from '../access/audit-scope';
import { lockTenant } from '../access/tenant-lock';
import { TenantRepository } from '../tenant.repository';

/** A tenant's budget over all its keys, and what they spent in its current period. */
export interface TenantBudgetView {
  budgetUsd: number | null;
  budgetPeriod: QuotaPeriod;
  spentUsd: number;
}

export interface TenantBudgetChange {
  /** USD per period; null: no budget. */
  budgetUsd?: number | null;
  budgetPeriod?: QuotaPeriod;
}

/**
 * A tenant's USD budget: every key of the tenant together stops at it (the gateway checks it from the
 * verified-key cache, dropped on every instance when it changes). Spend comes from the gateway's counters.
 */
@Injectable()
export class TenantBudgets {
  constructor(
    private readonly transactions: Transactions,
    private readonly tenants: TenantRepository,
    private readonly audit: AuditService,
    private readonly bus: InvalidationBus,
    private readonly spend: SpendReader,
  ) {}

  async view(tenantId: string): Promise<TenantBudgetView> {
    const row = (await this.tenants.budgetOf(tenantId)) ?? { budget_usd: null, budget_period: 'month' as const };
    const [spentUsd] = await this.spend.spentUsd([{ kind: 'tenant', id: tenantId, period: row.budget_period }]);
    return { budgetUsd: usdOf(row.budget_usd), budgetPeriod: row.budget_period, spentUsd };
  }

  async change(tenantId: string, change: TenantBudgetChange, scope: AuditScope): Promise<void> {
    requireTenantId(tenantId);
    const changed = await this.transactions.run(async (uow) => {
      await lockTenant(this.tenants, uow, tenantId);
      const before = (await this.tenants.budgetOf(tenantId, uow))!;
      const from = { budget_usd: usdOf(before.budget_usd), budget_period: before.budget_period };
      const to = {
        budget_usd:
          change.budgetUsd === undefined
            ? from.budget_usd
            : change.budgetUsd === null
              ? null
              : Math.round(change.budgetUsd * 1_000_000) / 1_000_000,
        budget_period: change.budgetPeriod ?? from.budget_period,
      };
      const diff = Object.fromEntries(
        (['budget_usd', 'budget_period'] as const)
          .filter((f) => from[f] !== to[f])
          .map((f) => [f, { from: from[f], to: to[f] }]),
      );
      if (Object.keys(diff).length === 0) return false;
      await this.tenants.setBudget(uow, tenantId, to.budget_usd, to.budget_period);
      await this.audit.record(
        { action: 'tenant.updated', ...scope, tenantId, target: { type: 'tenant', id: tenantId }, metadata: diff },
        uow,
      );
      return true;
    });
    // Every instance drops the tenant's verified keys: the next request meets the new budget.
    if (changed) await this.bus.publish(CacheTopic.tenant, tenantId);
  }
}

function usdOf(value: string | null): number | null {
  return value === null ? null : Number(value);
}
