import { Injectable, Logger } from '@nestjs/common';
import { AppError, LruCache } from '#libs/common';
import { DeploymentIdentity } from '#libs/installation';
import { OpenRouterClient, OpenRouterError, spendOf, type CreatedKey } from '../client';
import { limitResetOf, usageInPeriod } from '../budget/budget-period';
import { UserBudgets, type BudgetStanding } from '../budget/user-budgets';
import { codeOf } from '../error-code';
import { KeySpendCache } from '../spend/key-spend.cache';
import { keyName } from './key-name';
import type { OpenRouterKey } from './openrouter-key.entity';

/** A key found disabled upstream is not asked about again for this long (each 401 on it would ask). */
const DISABLED_MEMO_MS = 15_000;

/**
 * The upstream side of a new key: what the key it replaces spent in the budget period, and the `POST /keys` that
 * creates the new one with the limit and period of the user's budget. Stores nothing.
 */
@Injectable()
export class UpstreamKeyMaker {
  private readonly logger = new Logger(UpstreamKeyMaker.name);
  private readonly disabledUpstream = new LruCache<string, true>(10_000, DISABLED_MEMO_MS);

  constructor(
    private readonly client: OpenRouterClient,
    private readonly identity: DeploymentIdentity,
    private readonly budgets: UserBudgets,
    private readonly spend: KeySpendCache,
  ) {}

  /** 403 `openrouter_key_disabled` when the key was found disabled upstream a moment ago. */
  refuseKnownDisabled(hash: string): void {
    if (this.disabledUpstream.get(hash)) throw keyDisabled();
  }

  /**
   * What the user's current key spent in the budget period, read from OpenRouter (`GET /keys/{hash}`). An answer
   * without the period's usage, or no answer, fails the replacement (502) and the key stays. A key OpenRouter no
   * longer knows (404: deleted behind our back, the classic reason for a 401) has no spend to read any more: its
   * last spend seen here counts, else nothing, since only an operator (never the user) can delete a key upstream.
   */
  async spentByOldKey(row: OpenRouterKey, replaceDisabled: boolean): Promise<number> {
    const hash = row.upstreamHash!;
    let key;
    try {
      key = await this.client.getKey(hash);
    } catch (err) {
      if (err instanceof OpenRouterError && err.upstreamStatus === 404) {
        const known = this.spend.known(hash);
        const spent = (known && usageInPeriod(known, this.budgets.period)) ?? 0;
        this.logger.warn(`OpenRouter key ${hash} of user ${row.userId} is gone upstream; counted at ${spent} USD`);
        return spent;
      }
      throw unreadableSpend(codeOf(err));
    }
    if (key.disabled && !replaceDisabled) {
      this.disabledUpstream.set(hash, true);
      this.logger.warn(`OpenRouter key ${hash} of user ${row.userId} is disabled upstream; it is left as it is`);
      throw keyDisabled();
    }
    const spent = usageInPeriod(spendOf(key), this.budgets.period);
    if (spent === null) throw unreadableSpend('no usage in the answer');
    return spent;
  }

  /** Creates the user's new key upstream with the standing's limit and period (OpenRouter's errors pass through). */
  create(userId: string, standing: BudgetStanding): Promise<CreatedKey> {
    return this.client.createKey({
      name: keyName(this.identity.installationId, userId),
      limit: standing.keyLimit,
      limitReset: limitResetOf(standing.period),
    });
  }
}

function keyDisabled(): AppError {
  return new AppError(
    'openrouter_key_disabled',
    "The user's OpenRouter key is disabled at OpenRouter; an operator must enable it or a platform admin refresh it",
  );
}

function unreadableSpend(reason: string): AppError {
  return new AppError(
    'openrouter_unavailable',
    `What the current OpenRouter key spent could not be read (${reason}); the stored key is unchanged`,
  );
}
