import { Option } from 'nest-commander';
import { PlatformStats } from '#libs/admin';
import { CliCommand, CliCommandRunner } from '../cli-command';
import { out, printFields, printJson, printTable } from '../cli-output';

const usd = (n: number) => `$${n.toFixed(4)}`;

@CliCommand({
  name: 'stats',
  description:
    'Counts of users, tenants and keys; renewals and provisioning failures in the last 24 hours; spend per tenant and the keys closest to their limit',
})
export class StatsCommand extends CliCommandRunner {
  constructor(private readonly stats: PlatformStats) {
    super();
  }

  async run(_args: string[], opts: { json?: boolean }): Promise<void> {
    const { spend_by_tenant, keys_closest_to_limit, ...counts } = await this.stats.collect();
    if (opts.json) return printJson({ ...counts, spend_by_tenant, keys_closest_to_limit });
    printFields(counts);
    out();
    out('spend per tenant (recorded usage cost)');
    printTable(
      ['tenant', 'slug', 'requests', 'cost'],
      spend_by_tenant.map((t) => [t.name ?? t.tenant_id, t.slug, t.requests, usd(t.cost)]),
    );
    out();
    out('OpenRouter keys closest to their limit');
    printTable(
      ['user', 'key', 'usage', 'limit', 'remaining', 'source'],
      keys_closest_to_limit.map((k) => [
        k.email ?? k.user_id,
        k.label,
        usd(k.usage),
        usd(k.limit),
        usd(k.limit_remaining),
        k.source,
      ]),
    );
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
