import { Option } from 'nest-commander';
import { AdminDirectory } from '#libs/admin';
import { CliCommand, CliCommandRunner } from '../cli-command';
import { parsePositiveInt, printJson, printTable } from '../cli-output';

interface Options {
  limit?: number;
  json?: boolean;
}

@CliCommand({ name: 'tenants:list', description: 'List tenants, newest first, with member and active API key counts' })
export class TenantsListCommand extends CliCommandRunner {
  constructor(private readonly directory: AdminDirectory) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    const page = await this.directory.tenants({ limit: opts.limit ?? 200 });
    if (opts.json) return printJson(page.data);
    printTable(
      ['ID', 'SLUG', 'NAME', 'MEMBERS', 'ACTIVE KEYS', 'CLERK ORG', 'CREATED'],
      page.data.map((t) => [t.id, t.slug, t.name, t.members, t.api_keys_active, t.clerk_org_id, t.created_at]),
    );
    if (page.next_cursor) process.stdout.write(`(more tenants exist; showing the newest ${page.data.length})\n`);
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
