import { Option } from 'nest-commander';
import { AdminUserBudgets, UpdateAdminUserDto } from '#libs/admin';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { validateLike } from '../cli-lookup';
import { out, printJson } from '../cli-output';

@CliCommand({
  name: 'users:set-budget',
  arguments: '<user> <usd>',
  argsDescription: {
    user: 'user id, Clerk user id (user_…) or email',
    usd: "the user's OpenRouter budget in USD per period, or `default` for OPENROUTER_KEY_LIMIT",
  },
  description: "Give a user another OpenRouter budget, applied to their current key's limit upstream at once",
})
export class UsersSetBudgetCommand extends CliCommandRunner {
  constructor(private readonly budgets: AdminUserBudgets) {
    super();
  }

  async run([userRef, amount]: string[], opts: { json?: boolean }): Promise<void> {
    const dto = await validateLike(
      UpdateAdminUserDto,
      { openrouter_budget_usd: parseAmount(amount) },
      { openrouter_budget_usd: '<usd>' },
    );
    const result = await this.budgets.set(userRef, dto.openrouter_budget_usd, cliActor());
    if (opts.json) return printJson(result);
    const b = result.openrouter_budget;
    out(
      `Budget of user ${result.user_id}: ${b.budget} USD (${b.period})${result.openrouter_budget_usd === null ? ', the default' : ''}.`,
    );
    out(`  spent:     ${b.spent ?? 'unknown'}`);
    out(`  remaining: ${b.remaining ?? 'unknown'}`);
    out(`  key limit: ${result.openrouter_key_limit ?? '-'}`);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}

/** `default` → null; a plain decimal number → that number; anything else is refused here, not turned into NaN. */
function parseAmount(value: string): number | null | string {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === 'default') return null;
  if (!/^\d+(\.\d+)?$/.test(trimmed)) throw new CliError(`<usd>: "${value}" is not an amount in USD (or "default")`);
  return Number(trimmed);
}
