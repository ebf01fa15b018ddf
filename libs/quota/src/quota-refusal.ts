import { AppError } from '#libs/common';
import type { QuotaRefusal } from './quota.service';
import './quota.errors'; // the codes thrown here, registered also when a test loads this file alone

const per = (period: string) => (period === 'total' ? 'lifetime' : period);
const usd = (n: number) => `${Number(n.toFixed(6))} USD`;

/** The contract's answer to a refused admission: 429 `quota_exceeded`, `budget_exceeded` or `tenant_budget_exceeded`. */
export function quotaRefusalError(refusal: QuotaRefusal): AppError {
  if ('quota' in refusal)
    return new AppError(
      'quota_exceeded',
      `This API key has used its token quota (${refusal.quota} tokens per ${per(refusal.period)})`,
    );
  return refusal.budget === 'api_key'
    ? new AppError(
        'budget_exceeded',
        `This API key has spent its budget (${usd(refusal.budgetUsd)} per ${per(refusal.period)})`,
      )
    : new AppError(
        'tenant_budget_exceeded',
        `This tenant has spent its budget (${usd(refusal.budgetUsd)} per ${per(refusal.period)})`,
      );
}
