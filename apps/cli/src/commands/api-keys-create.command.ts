import { InjectDataSource } from '@nestjs/typeorm';
import { Option } from 'nest-commander';
import { DataSource } from 'typeorm';
import { ApiKeyIssuer, toCreatedApiKeyResponse } from '#libs/api-keys';
import { CreateApiKeyDto } from '#libs/api-keys';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { CliLookup, validateLike } from '../cli-lookup';
import { out, printJson } from '../cli-output';

interface Options {
  name?: string;
  user?: string;
  withoutUser?: boolean;
  scopes?: string;
  rateLimit?: string;
  tokenQuota?: string;
  quotaPeriod?: string;
  expiresAt?: string;
  json?: boolean;
}

const FLAGS = {
  name: '--name',
  user_id: '--user',
  scopes: '--scopes',
  rate_limit_per_minute: '--rate-limit',
  token_quota: '--token-quota',
  quota_period: '--quota-period',
  expires_at: '--expires-at',
};

@CliCommand({
  name: 'api-keys:create',
  arguments: '<tenant>',
  argsDescription: { tenant: 'tenant id or slug' },
  description: 'Create a tenant API key and print it once (only its SHA-256 is stored)',
})
export class ApiKeysCreateCommand extends CliCommandRunner {
  constructor(
    private readonly lookup: CliLookup,
    private readonly issuer: ApiKeyIssuer,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    super();
  }

  async run([tenantRef]: string[], opts: Options): Promise<void> {
    if (!opts.name) throw new CliError('--name is required');
    if (opts.user && opts.withoutUser) throw new CliError('--user and --without-user exclude each other');
    const tenant = await this.lookup.tenant(tenantRef);
    const userId = opts.withoutUser
      ? null
      : opts.user
        ? (await this.lookup.existingUser(opts.user)).id
        : await this.firstOwner(tenant.id);
    const dto = await validateLike(
      CreateApiKeyDto,
      {
        name: opts.name,
        ...(userId ? { user_id: userId } : {}),
        ...(opts.scopes !== undefined
          ? {
              scopes: opts.scopes
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(opts.rateLimit !== undefined ? { rate_limit_per_minute: toNumber(opts.rateLimit) } : {}),
        ...(opts.tokenQuota !== undefined ? { token_quota: toNumber(opts.tokenQuota) } : {}),
        ...(opts.quotaPeriod !== undefined ? { quota_period: opts.quotaPeriod } : {}),
        ...(opts.expiresAt !== undefined ? { expires_at: opts.expiresAt } : {}),
      },
      FLAGS,
    );
    const { key, plaintext } = await this.issuer.create(
      tenant.id,
      {
        name: dto.name,
        userId,
        scopes: dto.scopes,
        rateLimitPerMinute: dto.rate_limit_per_minute,
        tokenQuota: dto.token_quota,
        quotaPeriod: dto.quota_period,
        expiresAt: dto.expires_at ? new Date(dto.expires_at) : null,
      },
      null,
      { actor: cliActor(), requestId: null },
    );
    const created = toCreatedApiKeyResponse(key, 0, plaintext);
    if (opts.json) return printJson({ tenant_id: tenant.id, ...created });
    out(`Created API key "${created.name}" for tenant ${tenant.slug}.`);
    out(`  id:         ${created.id}`);
    out(`  prefix:     ${created.prefix}`);
    out(`  scopes:     ${created.scopes.join(', ')}`);
    out(`  rate limit: ${created.rate_limit_per_minute}/minute`);
    out(
      `  quota:      ${created.token_quota === null ? 'unlimited' : `${created.token_quota} tokens per ${created.quota_period}`}`,
    );
    out(`  acts as:    ${created.user_id ?? 'no user (cannot call chat completions)'}`);
    out(`  expires:    ${created.expires_at ?? 'never'}`);
    out('');
    out('Key (shown once; store it now, it cannot be shown again):');
    out(plaintext);
  }

  /** Without --user the key acts as the tenant's first owner, as a key made in the API acts as its creator. */
  private async firstOwner(tenantId: string): Promise<string | null> {
    const rows: { user_id: string }[] = await this.dataSource.query(
      `SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.role = 'owner' AND u.status <> 'deactivated' ORDER BY m.created_at LIMIT 1`,
      [tenantId],
    );
    return rows[0]?.user_id ?? null;
  }

  @Option({ flags: '--name <name>', description: 'what the key is for (required)' })
  parseName(value: string): string {
    return value;
  }

  @Option({
    flags: '--user <user>',
    description: 'the member the key acts as: id, Clerk id or email (default: the first owner)',
  })
  parseUser(value: string): string {
    return value;
  }

  @Option({ flags: '--without-user', description: 'a key acting as no user (it cannot call chat completions)' })
  parseNoUser(): boolean {
    return true;
  }

  @Option({
    flags: '--scopes <list>',
    description: 'comma-separated: users:read,users:write,chat,usage:read (default: all)',
  })
  parseScopes(value: string): string {
    return value;
  }

  @Option({ flags: '--rate-limit <n>', description: 'requests per minute (default: API_KEY_DEFAULT_RATE_LIMIT)' })
  parseRateLimit(value: string): string {
    return value;
  }

  @Option({ flags: '--token-quota <n>', description: 'tokens per quota period (default: unlimited)' })
  parseTokenQuota(value: string): string {
    return value;
  }

  @Option({ flags: '--quota-period <period>', description: 'day, month or total (default with a quota: total)' })
  parseQuotaPeriod(value: string): string {
    return value;
  }

  @Option({ flags: '--expires-at <iso-date>', description: 'e.g. 2030-01-01T00:00:00Z (default: never)' })
  parseExpiresAt(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print JSON (the key included)' })
  parseJson(): boolean {
    return true;
  }
}

function toNumber(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}
