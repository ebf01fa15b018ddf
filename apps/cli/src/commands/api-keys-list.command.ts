import { Option } from 'nest-commander';
import { ApiKeyRepository, toApiKeyResponse, NO_USAGE } from '#libs/api-keys';
import { TokensUsedView } from '#libs/api-keys';
import { CliCommand, CliCommandRunner } from '../cli-command';
import { CliLookup } from '../cli-lookup';
import { printJson, printTable } from '../cli-output';

@CliCommand({
  name: 'api-keys:list',
  arguments: '<tenant>',
  argsDescription: { tenant: 'tenant id or slug' },
  description: "List a tenant's API keys (never the keys themselves); revoked ones with --all",
})
export class ApiKeysListCommand extends CliCommandRunner {
  constructor(
    private readonly lookup: CliLookup,
    private readonly keys: ApiKeyRepository,
    private readonly tokens: TokensUsedView,
  ) {
    super();
  }

  async run([tenantRef]: string[], opts: { all?: boolean; json?: boolean }): Promise<void> {
    const tenant = await this.lookup.tenant(tenantRef);
    const rows = await this.keys.forTenant(tenant.id).list(Boolean(opts.all));
    const used = await this.tokens.exact(rows);
    const keys = rows.map((k) => toApiKeyResponse(k, used.get(k.id) ?? NO_USAGE));
    if (opts.json) return printJson(keys);
    printTable(
      ['ID', 'NAME', 'PREFIX', 'STATUS', 'SCOPES', 'RATE/MIN', 'TOKENS USED', 'QUOTA', 'USER', 'LAST USED', 'CREATED'],
      keys.map((k) => [
        k.id,
        k.name,
        k.prefix,
        k.status,
        k.scopes.join(','),
        k.rate_limit_per_minute,
        k.tokens_used,
        k.token_quota === null ? 'unlimited' : `${k.token_quota}/${k.quota_period}`,
        k.user_id,
        k.last_used_at,
        k.created_at,
      ]),
    );
  }

  @Option({ flags: '--all', description: 'include revoked keys' })
  parseAll(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
