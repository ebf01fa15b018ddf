import { Option } from 'nest-commander';
import { ApiKeyIssuer, toCreatedApiKeyResponse, NO_USAGE } from '#libs/api-keys';
import { CreateApiKeyDto } from '#libs/api-keys';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { CliLookup, validateLike } from '../cli-lookup';
import { out, printJson } from '../cli-output';

interface Options {
  name?: string;
  user?: string;
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
  ) {
    super();
  }

  async run([tenantRef]: string[], opts: Options): Promise<void> {
    if (!opts.name) throw new CliError('--name is required');
    // A key acts as one person and spends their OpenRouter credit: the operator names them.
    if (!opts.user) throw new CliError('--user is required: the member the key acts as (a member who has signed in)');
    const tenant = await this.lookup.tenant(tenantRef);
    const user = await this.lookup.existingUser(opts.user);
    if (user.status === 'pending')
      throw new CliError(`user "${opts.user}" has never signed in: a key can only act as a user who has`);
    const userId = user.id;
    const dto = await validateLike(
      CreateApiKeyDto,
      {
        name: opts.name,
        user_id: userId,
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
    const created = toCreatedApiKeyResponse(key, NO_USAGE, plaintext);
    if (opts.json) return printJson({ tenant_id: tenant.id, ...created });
    out(`Created API key "${created.name}" for tenant ${tenant.slug}.`);
    out(`  id:         ${created.id}`);
    out(`  prefix:     ${created.prefix}`);
    out(`  scopes:     ${created.scopes.join(', ')}`);
    out(`  rate limit: ${created.rate_limit_per_minute}/minute`);
    out(
      `  quota:      ${created.token_quota === null ? 'unlimited' : `${created.token_quota} tokens per ${created.quota_period}`}`,
    );
    out(`  acts as:    ${created.user_id}`);
    out(`  expires:    ${created.expires_at ?? 'never'}`);
    out('');
    out('Key (shown once; store it now, it cannot be shown again):');
    out(plaintext);
  }

  @Option({ flags: '--name <name>', description: 'what the key is for (required)' })
  parseName(value: string): string {
    return value;
  }

  @Option({
    flags: '--user <user>',
    description: 'the member the key acts as (required; one who has signed in): id, Clerk id or email',
  })
  parseUser(value: string): string {
    return value;
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
