import { Injectable } from '@nestjs/common';
import { ContextApiKey } from '#libs/common';
import { isQuotaPeriod, QuotaPolicy, SpendBudget } from '#libs/quota';

const UNLIMITED: QuotaPolicy = { tokenQuota: null, period: 'total' };

/** Quota and budget fields the API-key authenticator puts on the context (from its verified-key cache). */
type ApiKeyWithQuota = ContextApiKey & {
  tokenQuota?: number | string | null;
  quotaPeriod?: string | null;
  tenantId?: string;
  budgetUsd?: number | null;
  budgetPeriod?: string | null;
  tenantBudgetUsd?: number | null;
  tenantBudgetPeriod?: string | null;
};

/**
 * The token quota, period and USD budgets (the key's and its tenant's) of the request's API key, as the
 * api-keys lib (the owner of `api_keys`) verified it for this request: its cache is dropped on every instance
 * when a key or its tenant changes, so a new limit applies to the next request and the gateway never reads
 * the tables itself.
 */
@Injectable()
export class QuotaPolicyResolver {
  /**
   * The policy of each verified key object. The api-keys lib hands out one frozen object per key for as long as
   * its cache holds it and a new one when the key or its tenant changes, so the policy is worked out once per
   * key rather than once per request, and a changed limit still applies to the next request.
   */
  private readonly policies = new WeakMap<ContextApiKey, QuotaPolicy>();

  policyOf(apiKey: ContextApiKey): QuotaPolicy {
    if (!Object.isFrozen(apiKey)) return policyOf(apiKey);
    let policy = this.policies.get(apiKey);
    if (!policy) {
      policy = policyOf(apiKey);
      this.policies.set(apiKey, policy);
    }
    return policy;
  }
}

function policyOf(apiKey: ContextApiKey): QuotaPolicy {
  const own = apiKey as ApiKeyWithQuota;
  const policy = own.tokenQuota === undefined ? UNLIMITED : toPolicy(own.tokenQuota, own.quotaPeriod ?? null);
  if (!own.tenantId) return policy;
  return {
    ...policy,
    budget: toBudget(own.budgetUsd, own.budgetPeriod),
    tenant: { id: own.tenantId, budget: toBudget(own.tenantBudgetUsd, own.tenantBudgetPeriod) },
  };
}

/** A quota without a period counts over the key's whole life. */
function toPolicy(quota: number | string | null, period: string | null): QuotaPolicy {
  if (quota === null || quota === undefined) return UNLIMITED;
  const n = Number(quota);
  if (!Number.isFinite(n)) return UNLIMITED;
  return { tokenQuota: n, period: isQuotaPeriod(period) ? period : 'total' };
}

/** A budget's period defaults to the month, as the contract's. */
function toBudget(usd: number | null | undefined, period: string | null | undefined): SpendBudget {
  const n = usd === null || usd === undefined ? null : Number(usd);
  return { usd: n !== null && Number.isFinite(n) ? n : null, period: isQuotaPeriod(period) ? period : 'month' };
}
