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
  expiresAt?: Date | null;
}

export type ApiKeyChanges = Partial<
  Pick<Required<NewApiKey>, 'name' | 'scopes' | 'rateLimitPerMinute' | 'tokenQuota' | 'quotaPeriod' | 'expiresAt'>
> & {
  isActive?: boolean;
};

/** A quota period means nothing without a quota; a quota without a period counts in total. */
export function quotaPeriodFor(quota: number | null, period: QuotaPeriod | null | undefined): QuotaPeriod | null {
  return quota === null ? null : (period ?? 'total');
}
