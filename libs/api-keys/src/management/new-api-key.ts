import type { ApiKeyScope } from '../scopes';
import type { QuotaPeriod } from '../api-key.entity';

/** What a key is created with, from the HTTP API or the command line. */
export interface NewApiKey {
  name: string;
  /** The member the key acts as: the creator's own id or undefined (HTTP); required on the command line. */
  userId?: string | null;
  scopes?: ApiKeyScope[];
  rateLimitPerMinute?: number;
  tokenQuota?: number | null;
  quotaPeriod?: QuotaPeriod | null;
  /** USD per `budgetPeriod`; null: no budget. */
  budgetUsd?: number | null;
  /** Default: month. */
  budgetPeriod?: QuotaPeriod;
  expiresAt?: Date | null;
}

export type ApiKeyChanges = Partial<
  Pick<
    Required<NewApiKey>,
    'name' | 'scopes' | 'rateLimitPerMinute' | 'tokenQuota' | 'quotaPeriod' | 'budgetUsd' | 'budgetPeriod' | 'expiresAt'
  >
> & {
  isActive?: boolean;
};

/** A quota period means nothing without a quota; a quota without a period counts in total. */
export function quotaPeriodFor(quota: number | null, period: QuotaPeriod | null | undefined): QuotaPeriod | null {
  return quota === null ? null : (period ?? 'total');
}

/** Budgets are kept to the micro-dollar, as spend is counted. */
export function budgetFor(usd: number | null | undefined): number | null | undefined {
  return usd === null || usd === undefined ? usd : Math.round(usd * 1_000_000) / 1_000_000;
}
