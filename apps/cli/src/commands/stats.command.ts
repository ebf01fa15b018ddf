import { Option } from 'nest-commander';
import { PlatformStats } from '#libs/admin';
import { CliCommand, CliCommandRunner } from '../cli-command';
import { out, printJson } from '../cli-output';

@CliCommand({
  name: 'stats',
  description: 'Counts of users, tenants and keys; renewals and provisioning failures in the last 24 hours',
})
export class StatsCommand extends CliCommandRunner {
  constructor(private readonly stats: PlatformStats) {
    super();
  }

  async run(_args: string[], opts: { json?: boolean }): Promise<void> {
    const s = await this.stats.collect();
    if (opts.json) return printJson(s);
    const width = Math.max(...Object.keys(s).map((k) => k.length));
    for (const [name, value] of Object.entries(s)) out(`${name.padEnd(width)}  ${value}`);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
