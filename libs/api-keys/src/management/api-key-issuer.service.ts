import { Injectable } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { actingUserOf, AuditService, AuditScope } from '#libs/audit';
import { AppError } from '#libs/common';
import { API_KEY_SCOPES } from '../scopes';
import { AppConfig } from '#libs/config';
import { QuotaService } from '#libs/quota';
import { MembershipRepository } from '#libs/tenants';
import type { ApiKey } from '../api-key.entity';
import { ApiKeyRepository } from '../api-key.repository';
import { statusOf } from '../api-key-state';
import { ApiKeyCacheSync } from '../auth/api-key-cache.sync';
import { generateApiKey } from '../format/api-key-format';
import { assertFuture, assertMayRotate, assertSignedInMember, keyRevoked, keyUserFor } from './api-key-rules';
import { budgetFor, NewApiKey, quotaPeriodFor } from './new-api-key';

export interface IssuedApiKey {
  key: ApiKey;
  /** Shown once, to whoever asked for the key. */
  plaintext: string;
}

/** Creating keys and rotating them (a new secret, same settings; the old one works for a grace period). */
@Injectable()
export class ApiKeyIssuer {
  constructor(
    private readonly transactions: Transactions,
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly sync: ApiKeyCacheSync,
    private readonly quota: QuotaService,
    private readonly members: MembershipRepository,
  ) {}

  /**
   * `creatorId`: the signed-in user creating the key (the key acts as them); null for an operator on
   * the command line, who names the user in `input.userId`.
   */
  async create(tenantId: string, input: NewApiKey, creatorId: string | null, scope: AuditScope): Promise<IssuedApiKey> {
    const userId = keyUserFor(creatorId, input.userId);
    assertFuture(input.expiresAt);
    const tokenQuota = input.tokenQuota ?? null;
    // Checked before the transaction opens: as its first statement (READ COMMITTED) it would see the same rows.
    await assertSignedInMember(this.members, tenantId, userId);
    return this.transactions.run(async (uow) => {
      const secret = generateApiKey();
      const key = await this.keys.forTenant(tenantId).insert(uow, {
        name: input.name,
        userId,
        keyHash: secret.hash,
        prefix: secret.prefix,
        scopes: input.scopes ?? [...API_KEY_SCOPES],
        rateLimitPerMinute: input.rateLimitPerMinute ?? this.config.apiKeyDefaultRateLimit,
        tokenQuota,
        quotaPeriod: quotaPeriodFor(tokenQuota, input.quotaPeriod),
        budgetUsd: budgetFor(input.budgetUsd) ?? null,
        budgetPeriod: input.budgetPeriod ?? 'month',
        expiresAt: input.expiresAt ?? null,
      });
      await this.audit.record(
        {
          action: 'api_key.created',
          ...scope,
          tenantId,
          target: { type: 'api_key', id: key.id },
          metadata: {
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            rate_limit_per_minute: key.rateLimitPerMinute,
            token_quota: key.tokenQuota,
            budget_usd: key.budgetUsd,
            budget_period: key.budgetPeriod,
            user_id: key.userId,
          },
        },
        uow,
      );
      return { key, plaintext: secret.key };
    });
  }

  /**
   * A new key with the old one's settings and its usage and spend so far (see QuotaService.carryOver);
   * the old key is revoked `graceSeconds` from now (at once with 0) and refused as `api_key_revoked`
   * after that. Only the key's own user rotates: the new plaintext acts as, and spends for, them.
   */
  async rotate(tenantId: string, keyId: string, graceSeconds: number, scope: AuditScope): Promise<IssuedApiKey> {
    const keys = this.keys.forTenant(tenantId);
    const issued = await this.transactions.run(async (uow) => {
      const old = await keys.lock(uow, keyId);
      assertMayRotate(old, actingUserOf(scope));
      const status = statusOf({
        isActive: old.isActive,
        expiresAtMs: old.expiresAt?.getTime() ?? null,
        revokedAtMs: old.revokedAt?.getTime() ?? null,
      });
      if (old.revokedAt)
        throw status === 'revoked'
          ? keyRevoked()
          : new AppError('api_key_rotating', 'This API key was rotated already');
      if (status === 'expired')
        throw new AppError('api_key_already_expired', 'An expired key cannot be rotated; create a new one');
      const secret = generateApiKey();
      const fresh = await keys.insert(uow, {
        name: old.name,
        userId: old.userId,
        keyHash: secret.hash,
        prefix: secret.prefix,
        scopes: old.scopes,
        rateLimitPerMinute: old.rateLimitPerMinute,
        tokenQuota: old.tokenQuota,
        quotaPeriod: old.quotaPeriod,
        budgetUsd: old.budgetUsd,
        budgetPeriod: old.budgetPeriod,
        isActive: old.isActive,
        expiresAt: old.expiresAt,
        rotatedFromId: old.id,
      });
      const oldWorksUntil = new Date(Date.now() + graceSeconds * 1000);
      await keys.update(uow, old.id, { revokedAt: oldWorksUntil });
      await this.audit.record(
        {
          action: 'api_key.rotated',
          ...scope,
          tenantId,
          target: { type: 'api_key', id: old.id },
          metadata: {
            prefix: old.prefix,
            new_key_id: fresh.id,
            new_prefix: fresh.prefix,
            grace_period_seconds: graceSeconds,
            old_key_works_until: oldWorksUntil.toISOString(),
          },
        },
        uow,
      );
      return { key: fresh, plaintext: secret.key };
    });
    await this.sync.keyChanged(keyId);
    // The quota belongs to the credential, not to one secret: the new key starts where the old one is.
    await this.quota.carryOver(keyId, issued.key.id);
    return issued;
  }
}
