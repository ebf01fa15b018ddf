import { Injectable, Logger } from '@nestjs/common';
import { Transactions } from '#libs/database';
import { AuditActor, AuditService } from '#libs/audit';
import { AppError, LruCache } from '#libs/common';
import { AppConfig } from '#libs/config';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import { spendOf, type KeySpend } from '../client/key-usage';
import { OpenRouterClient } from '../client/openrouter.client';
import { codeOf } from '../error-code';
import { KeyLease } from '../keys/key-lease';
import { OpenRouterKey } from '../keys/openrouter-key.entity';
import { OpenRouterKeyRepository, type BudgetColumns } from '../keys/openrouter-key.repository';
import { OpenRouterKeyStore } from '../keys/openrouter-key.store';
import {
  addSpend,
  limitResetOf,
  nextPeriodStart,
  periodStart,
  remainingLimit,
  sameLimit,
  type BudgetPeriod,
} from './budget-period';

/** The largest budget a platform admin may give one user (USD per period). */
export const MAX_USER_BUDGET_USD = 1_000_000;
/** After a failed attempt to bring a user's key up to date, the hot path leaves OpenRouter alone this long. */
const RETRY_AFTER_FAILURE_MS = 30_000;

/** A user's budget as it stands now. */
export interface BudgetStanding {
  /** USD per period: the user's own, or OPENROUTER_KEY_LIMIT. */
  budget: number;
  period: BudgetPeriod;
  /** Null for `none`. */
  periodStart: Date | null;
  /** What replaced keys spent in this period (0 once a new period has begun). */
  replacedSpend: number;
  /** The limit the current key must have: what replaced keys left of the budget (its own usage counts upstream). */
  keyLimit: number;
}

/**
 * A user's OpenRouter budget across all their keys. The current key's limit is always what the user's replaced keys
 * left of the budget in the period, and its `limit_reset` the period, so that OpenRouter itself stops the key at the
 * budget. The rows of `openrouter_keys` carry the per-user budget, the period and the replaced keys' spend.
 */
@Injectable()
export class UserBudgets {
  private readonly logger = new Logger(UserBudgets.name);
  readonly period: BudgetPeriod;
  private readonly defaultBudget: number;
  /** The current period's start, kept until the next one begins: the hot path compares, never computes dates. */
  private current: { start: Date | null; until: number } = { start: null, until: 0 };
  private readonly failedAt = new LruCache<string, number>(50_000, RETRY_AFTER_FAILURE_MS);

  constructor(
    private readonly keys: OpenRouterKeyRepository,
    private readonly transactions: Transactions,
    private readonly client: OpenRouterClient,
    private readonly store: OpenRouterKeyStore,
    private readonly lease: KeyLease,
    private readonly audit: AuditService,
    private readonly bus: InvalidationBus,
    config: AppConfig,
  ) {
    this.period = config.openRouter.keyLimitReset;
    this.defaultBudget = config.openRouter.keyLimit;
  }

  budgetOf(row: Pick<OpenRouterKey, 'budgetUsd'> | null): number {
    return row?.budgetUsd ?? this.defaultBudget;
  }

  /** Start of the current period (null for `none`). */
  currentPeriodStart(now = Date.now()): Date | null {
    if (now < this.current.until || this.period === 'none') return this.current.start;
    const at = new Date(now);
    this.current = { start: periodStart(this.period, at), until: nextPeriodStart(this.period, at)!.getTime() };
    return this.current.start;
  }

  standing(row: OpenRouterKey | null): BudgetStanding {
    const start = this.currentPeriodStart();
    const budget = this.budgetOf(row);
    const replacedSpend = row && !this.periodTurned(row, start) ? row.replacedSpendUsd : 0;
    return {
      budget,
      period: this.period,
      periodStart: start,
      replacedSpend,
      keyLimit: remainingLimit(budget, replacedSpend),
    };
  }

  /** The standing once a replaced key's spend in the period (`spent`) is counted. */
  afterReplacing(row: OpenRouterKey | null, spent: number): BudgetStanding {
    const before = this.standing(row);
    const replacedSpend = addSpend(before.replacedSpend, spent);
    return { ...before, replacedSpend, keyLimit: remainingLimit(before.budget, replacedSpend) };
  }

  /**
   * The row's bookkeeping columns for a standing (the key they describe gets `keyLimit` and the period's
   * `limit_reset`).
   */
  columnsFor(s: BudgetStanding): BudgetColumns {
    return {
      spendingLimit: s.keyLimit,
      budgetPeriod: s.period,
      periodStartedAt: s.periodStart,
      replacedSpendUsd: s.replacedSpend,
    };
  }

  /**
   * True when the user's current key no longer has the limit the budget gives it now: a new period has begun, the
   * period or the budget changed. Cheap: compares stored values, no upstream call.
   */
  isStale(row: OpenRouterKey | null): boolean {
    if (!row?.upstreamHash || row.status !== 'active') return false;
    if (this.periodTurned(row, this.currentPeriodStart())) return true;
    return !sameLimit(row.spendingLimit, remainingLimit(this.budgetOf(row), row.replacedSpendUsd));
  }

  /**
   * The row, its key brought up to date first when it is stale (`PATCH /keys/{hash}` with the limit and period, the
   * counters of a new period started). Never throws: when OpenRouter fails, the key keeps its limit for now and the
   * next request of the user, after a short pause, tries again.
   */
  async keepCurrent(row: OpenRouterKey | null): Promise<OpenRouterKey | null> {
    if (!row || !this.isStale(row)) return row;
    const userId = row.userId;
    const failed = this.failedAt.get(userId);
    if (failed !== undefined) return row;
    try {
      return await this.lease.hold(
        userId,
        async () => {
          const current = await this.store.find(userId);
          if (!current || !this.isStale(current)) return current;
          const s = this.standing(current);
          await this.client.updateKey(current.upstreamHash!, {
            limit: s.keyLimit,
            limitReset: limitResetOf(s.period),
          });
          await this.keys.writeBudgetColumns(userId, current.upstreamHash!, this.columnsFor(s));
          await this.bus.publish(CacheTopic.user, userId);
          this.logger.log(`OpenRouter key limit of user ${userId} set to ${s.keyLimit} USD (${s.period})`);
          return this.store.find(userId);
        },
        // Someone is replacing the key right now: the replacement applies the budget itself.
        async () => row,
      );
    } catch (err) {
      this.failedAt.set(userId, Date.now());
      this.logger.warn(`Bringing the OpenRouter key limit of user ${userId} up to date failed: ${codeOf(err)}`);
      return row;
    }
  }

  /**
   * A platform admin's budget for one user (null: back to OPENROUTER_KEY_LIMIT), applied to the current key upstream
   * at once, then stored and audited. When OpenRouter fails nothing changes (502 `openrouter_unavailable`).
   */
  async setBudget(
    userId: string,
    budgetUsd: number | null,
    actor: AuditActor,
  ): Promise<{ row: OpenRouterKey; standing: BudgetStanding; spend: KeySpend | null }> {
    if (budgetUsd !== null && !(Number.isFinite(budgetUsd) && budgetUsd >= 0 && budgetUsd <= MAX_USER_BUDGET_USD))
      throw new AppError('validation_failed', `openrouter_budget_usd must be between 0 and ${MAX_USER_BUDGET_USD}`);
    return this.lease.hold(
      userId,
      async () => {
        const current = (await this.store.find(userId))!;
        const s = this.standing({ ...current, budgetUsd });
        let spend: KeySpend | null = null;
        const live = current.upstreamHash && current.status === 'active' ? current.upstreamHash : null;
        if (live) {
          try {
            spend = spendOf(
              await this.client.updateKey(live, { limit: s.keyLimit, limitReset: limitResetOf(s.period) }),
            );
          } catch (err) {
            throw new AppError(
              'openrouter_unavailable',
              `OpenRouter could not change the key's limit (${codeOf(err)}); the budget is unchanged`,
            );
          }
        }
        await this.transactions.run(async (uow) => {
          await this.keys.writeBudget(uow, userId, budgetUsd, live ? this.columnsFor(s) : {});
          await this.audit.record(
            {
              action: 'user.budget_changed',
              actor,
              target: { type: 'user', id: userId },
              metadata: {
                previous_budget_usd: current.budgetUsd,
                budget_usd: budgetUsd,
                effective_budget_usd: s.budget,
                period: s.period,
                key_limit: live ? s.keyLimit : null,
              },
            },
            uow,
          );
        });
        await this.bus.publish(CacheTopic.user, userId);
        this.failedAt.delete(userId);
        return { row: (await this.store.find(userId))!, standing: s, spend };
      },
      async () => undefined,
    );
  }

  private periodTurned(row: OpenRouterKey, start: Date | null): boolean {
    if (row.budgetPeriod !== this.period) return true;
    if (start === null) return false;
    return row.periodStartedAt === null || row.periodStartedAt.getTime() < start.getTime();
  }
}
