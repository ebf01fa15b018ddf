import { Option } from 'nest-commander';
import { AdminDirectory } from '#libs/admin';
import { AUDIT_ACTIONS } from '#libs/audit';
import { AuditQueries } from '#libs/audit-read';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { parsePositiveInt, printJson, printTable } from '../cli-output';

interface Options {
  tenant?: string;
  action?: string;
  limit?: number;
  json?: boolean;
}

@CliCommand({ name: 'audit:list', description: 'Show the audit trail, newest first' })
export class AuditListCommand extends CliCommandRunner {
  constructor(
    private readonly audit: AuditQueries,
    private readonly directory: AdminDirectory,
  ) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    let tenantId: string | undefined;
    if (opts.tenant) {
      const tenant = await this.directory.tenant(opts.tenant);
      if (!tenant) throw new CliError(`unknown tenant "${opts.tenant}"`);
      tenantId = tenant.id;
    }
    const page = await this.audit.all(tenantId, { limit: opts.limit ?? 50, action: opts.action });
    if (opts.json) return printJson(page.data);
    printTable(
      ['TIME', 'ACTION', 'ACTOR', 'TENANT', 'TARGET', 'DETAILS'],
      page.data.map((e) => [
        e.created_at,
        e.action,
        `${e.actor_type}${e.actor_id ? `:${e.actor_id}` : ''}`,
        e.tenant_id,
        e.target_type ? `${e.target_type}:${e.target_id ?? '-'}` : null,
        JSON.stringify(e.metadata),
      ]),
    );
  }

  @Option({ flags: '--tenant <tenant>', description: "only this tenant's events (id or slug)" })
  parseTenant(value: string): string {
    return value;
  }

  @Option({ flags: '--action <action>', description: 'only this action', choices: [...AUDIT_ACTIONS] })
  parseAction(value: string): string {
    return value;
  }

  @Option({ flags: '--limit <n>', description: 'at most this many (1-200, default 50)' })
  parseLimit(value: string): number {
    return parsePositiveInt(200)(value);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
