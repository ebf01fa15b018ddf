import { Option } from 'nest-commander';
import { AdminDirectory } from '#libs/admin';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { parsePositiveInt, printJson, printTable } from '../cli-output';

interface Options {
  email?: string;
  tenant?: string;
  limit?: number;
  json?: boolean;
}

@CliCommand({
  name: 'users:list',
  description: "List users, newest first, with their OpenRouter key's state (never the key)",
})
export class UsersListCommand extends CliCommandRunner {
  constructor(private readonly directory: AdminDirectory) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    let tenantId: string | undefined;
    if (opts.tenant) {
      const tenant = await this.directory.tenant(opts.tenant);
      if (!tenant) throw new CliError(`unknown tenant "${opts.tenant}"`);
      tenantId = tenant.id;
    }
    const page = await this.directory.users({ email: opts.email, tenantId, limit: opts.limit ?? 200 });
    if (opts.json) return printJson(page.data);
    printTable(
      ['ID', 'EMAIL', 'STATUS', 'CLERK ID', 'OPENROUTER KEY', 'RENEWALS', 'LAST LOGIN'],
      page.data.map((u) => [
        u.id,
        u.email,
        u.status,
        u.clerk_user_id,
        u.openrouter_key
          ? `${u.openrouter_key.status}${u.openrouter_key.label ? ` ${u.openrouter_key.label}` : ''}`
          : 'none',
        u.openrouter_key?.renewal_count ?? 0,
        u.last_login_at,
      ]),
    );
    if (page.next_cursor) process.stdout.write(`(more users exist; showing the newest ${page.data.length})\n`);
  }

  @Option({ flags: '--email <email>', description: 'only the user with this email (case-insensitive)' })
  parseEmail(value: string): string {
    return value;
  }

  @Option({ flags: '--tenant <tenant>', description: 'only members of this tenant (id or slug)' })
  parseTenant(value: string): string {
    return value;
  }

  @Option({ flags: '--limit <n>', description: 'at most this many (1-200, default 200)' })
  parseLimit(value: string): number {
    return parsePositiveInt(200)(value);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
