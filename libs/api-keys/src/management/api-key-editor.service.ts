import { Injectable } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { actingUserOf, AuditService, type AuditScope } from '#libs/audit';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository } from '../api-key.repository';
import { statusOf } from '../api-key-state';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';
import { assertFuture, assertMayStrengthen, keyRevoked, KeyStrength } from './api-key-rules';
import { ApiKeyChanges, budgetFor, quotaPeriodFor } from './new-api-key';

type Field = keyof ApiKeyChanges;
const FIELD_NAMES: Record<Field, string> = {
  name: 'name',
  scopes: 'scopes',
  rateLimitPerMinute: 'rate_limit_per_minute',
  tokenQuota: 'token_quota',
  quotaPeriod: 'quota_period',
  budgetUsd: 'budget_usd',
  budgetPeriod: 'budget_period',
  isActive: 'is_active',
  expiresAt: 'expires_at',
};

/**
 * Changing a key's settings; takes effect from the next request on every instance. Anyone the route lets
 * in may weaken a key; only its own user may make it stronger (see assertMayStrengthen).
 */
@Injectable()
export class ApiKeyEditor {
  constructor(
    private readonly transactions: Transactions,
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditService,
    private readonly sync: ApiKeyCacheSync,
  ) {}

  async update(tenantId: string, keyId: string, changes: ApiKeyChanges, scope: AuditScope): Promise<ApiKey> {
    assertFuture(changes.expiresAt);
    const keys = this.keys.forTenant(tenantId);
    const updated = await this.transactions.run(async (uow) => {
      const key = await keys.lock(uow, keyId);
      if (
        statusOf({ isActive: key.isActive, expiresAtMs: null, revokedAtMs: key.revokedAt?.getTime() ?? null }) ===
        'revoked'
      )
        throw keyRevoked();
      const quota = changes.tokenQuota !== undefined ? changes.tokenQuota : key.tokenQuota;
      const period = changes.quotaPeriod !== undefined ? changes.quotaPeriod : key.quotaPeriod;
      const next: ApiKeyChanges = {
        ...changes,
        quotaPeriod: quotaPeriodFor(quota, period),
        budgetUsd: budgetFor(changes.budgetUsd),
      };
      const changed = changedFields(key, next);
      if (changed.length === 0) return key;
      assertMayStrengthen(key, { ...strengthOf(key), ...definedOf(next) }, actingUserOf(scope));
      const saved = await keys.update(uow, keyId, Object.fromEntries(changed.map((f) => [f, next[f]])));
      const diff = Object.fromEntries(
        changed.map((f) => [FIELD_NAMES[f], { from: comparable(key[f]), to: comparable(next[f]) }]),
      );
      await this.audit.record(
        {
          action: 'api_key.updated',
          ...scope,
          tenantId,
          target: { type: 'api_key', id: keyId },
          metadata: { prefix: key.prefix, changes: diff },
        },
        uow,
      );
      return saved;
    });
    await this.sync.keyChanged(keyId);
    return updated;
  }
}

/** The fields given that really change (the audit event lists them, named as in the API). */
function changedFields(key: ApiKey, next: ApiKeyChanges): Field[] {
  return (Object.keys(FIELD_NAMES) as Field[]).filter(
    (field) =>
      next[field] !== undefined && JSON.stringify(comparable(key[field])) !== JSON.stringify(comparable(next[field])),
  );
}

function strengthOf(key: ApiKey): KeyStrength {
  return {
    userId: key.userId,
    scopes: key.scopes,
    isActive: key.isActive,
    rateLimitPerMinute: key.rateLimitPerMinute,
    tokenQuota: key.tokenQuota,
    quotaPeriod: key.quotaPeriod,
    budgetUsd: key.budgetUsd,
    budgetPeriod: key.budgetPeriod,
    expiresAt: key.expiresAt,
  };
}

/** The fields a change sets (undefined: unchanged). */
function definedOf(changes: ApiKeyChanges): Partial<KeyStrength> {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<KeyStrength>;
}

function comparable(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return [...value].sort();
  return value;
}
