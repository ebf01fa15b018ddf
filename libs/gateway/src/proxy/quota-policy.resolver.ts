import { Injectable } from '@nestjs/common';
import { ContextApiKey } from '#libs/common';
import { isQuotaPeriod, QuotaPolicy } from '#libs/quota';

const UNLIMITED: QuotaPolicy = { tokenQuota: null, period: 'total' };

/** Quota fields the API-key authenticator puts on the context (from its verified-key cache). */
type ApiKeyWithQuota = ContextApiKey & { tokenQuota?: number | string | null; quotaPeriod?: string | null };

/**
 * The token quota and period of the request's API key, as the api-keys lib (the owner of `api_keys`) verified
 * it for this request: its cache is dropped on every instance when a key changes, so a new quota applies to
 * the next request and the gateway never reads the table itself.
 */
@Injectable()
export class QuotaPolicyResolver {
  policyOf(apiKey: ContextApiKey): QuotaPolicy {
    const own = apiKey as ApiKeyWithQuota;
    return own.tokenQuota === undefined ? UNLIMITED : toPolicy(own.tokenQuota, own.quotaPeriod ?? null);
  }
}

/** A quota without a period counts over the key's whole life. */
function toPolicy(quota: number | string | null, period: string | null): QuotaPolicy {
  if (quota === null || quota === undefined) return UNLIMITED;
  const n = Number(quota);
  if (!Number.isFinite(n)) return UNLIMITED;
  return { tokenQuota: n, period: isQuotaPeriod(period) ? period : 'total' };
}
