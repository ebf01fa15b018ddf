import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ContextApiKey, LruCache } from '#libs/common';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { isQuotaPeriod, QuotaPolicy } from '#libs/quota';

/** A key's settings are cached this long at most; a change is announced on the invalidation bus anyway. */
const POLICY_TTL_MS = 30_000;
const UNLIMITED: QuotaPolicy = { tokenQuota: null, period: 'total' };

/** Quota fields the API-key authenticator may put on the context, saving the lookup below. */
type ApiKeyWithQuota = ContextApiKey & { tokenQuota?: number | string | null; quotaPeriod?: string | null };

/**
 * The token quota and period of the request's API key. Read from the request context when the
 * authenticator put them there, else from `api_keys` through a short cache that every instance drops on
 * an `api_key` invalidation (PATCH, rotate, revoke), so that a change applies to the next request.
 */
@Injectable()
export class QuotaPolicyResolver {
  private readonly cache = new LruCache<string, QuotaPolicy>(100_000, POLICY_TTL_MS);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    bus: InvalidationBus,
  ) {
    bus.on(CacheTopic.apiKey, (id) => this.cache.delete(id));
  }

  async policyOf(apiKey: ContextApiKey): Promise<QuotaPolicy> {
    const own = apiKey as ApiKeyWithQuota;
    if (own.tokenQuota !== undefined) return toPolicy(own.tokenQuota, own.quotaPeriod ?? null);
    const cached = this.cache.get(apiKey.id);
    if (cached) return cached;
    const rows: { token_quota: string | null; quota_period: string | null }[] = await this.dataSource.query(
      `SELECT token_quota, quota_period FROM api_keys WHERE id = $1`,
      [apiKey.id],
    );
    const policy = rows[0] ? toPolicy(rows[0].token_quota, rows[0].quota_period) : UNLIMITED;
    this.cache.set(apiKey.id, policy);
    return policy;
  }
}

/** A quota without a period counts over the key's whole life. */
function toPolicy(quota: number | string | null, period: string | null): QuotaPolicy {
  if (quota === null || quota === undefined) return UNLIMITED;
  const n = Number(quota);
  if (!Number.isFinite(n)) return UNLIMITED;
  return { tokenQuota: n, period: isQuotaPeriod(period) ? period : 'total' };
}
