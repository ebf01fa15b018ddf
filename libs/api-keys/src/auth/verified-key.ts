import type { ContextApiKey, ContextTenant, ContextUser, RequestContext } from '#libs/common';
import type { TenantRole } from '#libs/tenants';
import type { QuotaPeriod } from '../api-key.entity';
import type { ApiKeyScope } from '../scopes';
import type { ApiKeyTimes } from '../api-key-state';

/** The context's api key as this capability fills it (quota and budget settings included, for the gateway). */
export interface VerifiedApiKey extends ContextApiKey {
  scopes: ApiKeyScope[];
  tenantId: string;
  tokenQuota: number | null;
  quotaPeriod: QuotaPeriod | null;
  /** The key's USD budget per `budgetPeriod` (null: none). */
  budgetUsd: number | null;
  budgetPeriod: QuotaPeriod;
  /** The tenant's USD budget over all its keys (the cache drops the key when the tenant changes). */
  tenantBudgetUsd: number | null;
  tenantBudgetPeriod: QuotaPeriod;
  expiresAt: string | null;
  /**
   * The key's user's role in the key's tenant when the key was verified (null: the key acts as no
   * user). A key never does more than this role allows; the cache drops the key on any change of it.
   */
  userRole: TenantRole | null;
}

/** What the authenticator caches per key hash: the context parts plus what is checked per request. */
export interface VerifiedKey extends ApiKeyTimes {
  id: string;
  tenantId: string;
  userId: string | null;
  apiKey: Readonly<VerifiedApiKey>;
  tenant: Readonly<ContextTenant>;
  user: Readonly<ContextUser> | null;
  userStatus: string | null;
  /** False when the key's user is no longer a member of the key's tenant. */
  userIsMember: boolean;
  userRole: TenantRole | null;
}

/** The api key of a context resolved by this capability (null for Clerk requests). */
export function verifiedApiKeyOf(ctx: RequestContext): VerifiedApiKey | null {
  const key = ctx.apiKey as VerifiedApiKey | null;
  return key && 'tenantId' in key ? key : null;
}
