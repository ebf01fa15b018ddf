import { Injectable } from '@nestjs/common';
import type { AuditActor } from '#libs/audit';
import { Errors } from '#libs/common';
import { usageInPeriod, UserBudgets } from '#libs/openrouter';
import { AdminDirectory } from './admin-directory.service';
import { AdminUserBudgetResponseDto } from './dto/update-admin-user.dto';

/** Gives one user another OpenRouter budget on a platform admin's behalf (admin route and command line). */
@Injectable()
export class AdminUserBudgets {
  constructor(
    private readonly directory: AdminDirectory,
    private readonly budgets: UserBudgets,
  ) {}

  /** `userRef`: id, Clerk id or email. `budgetUsd` null: back to OPENROUTER_KEY_LIMIT. */
  async set(userRef: string, budgetUsd: number | null, actor: AuditActor): Promise<AdminUserBudgetResponseDto> {
    const user = await this.directory.user(userRef);
    if (!user) throw Errors.notFound('User');
    const { row, standing, spend } = await this.budgets.setBudget(user.id, budgetUsd, actor);
    const hasKey = Boolean(row.upstreamHash && row.status === 'active');
    const current = hasKey ? (spend ? usageInPeriod(spend, standing.period) : null) : 0;
    const spent = current === null ? null : usd(standing.replacedSpend + current);
    return {
      user_id: user.id,
      openrouter_budget_usd: row.budgetUsd,
      openrouter_budget: {
        budget: standing.budget,
        period: standing.period,
        spent,
        remaining: spent === null ? null : usd(Math.max(0, standing.budget - spent)),
        period_started_at: standing.periodStart?.toISOString() ?? null,
      },
      openrouter_key_limit: hasKey ? row.spendingLimit : null,
    };
  }
}

function usd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
