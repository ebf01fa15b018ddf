import type { TenantRole } from '../roles';
import type { TenantDetailResponseDto, TenantResponseDto } from './dto/tenant.response';
import type { TenantBudgetView } from './tenant-budget.service';

export interface TenantView {
  id: string;
  name: string;
  slug: string;
  createdAt: Date | string;
}

/** Lists every field on purpose: entities never leave the service. */
export function toTenantResponse(t: TenantView, role: TenantRole): TenantResponseDto {
  return { id: t.id, name: t.name, slug: t.slug, role, created_at: new Date(t.createdAt).toISOString() };
}

export function toTenantDetailResponse(t: TenantView, role: TenantRole, b: TenantBudgetView): TenantDetailResponseDto {
  return {
    ...toTenantResponse(t, role),
    budget_usd: b.budgetUsd,
    budget_period: b.budgetPeriod,
    spent_usd: b.spentUsd,
  };
}
