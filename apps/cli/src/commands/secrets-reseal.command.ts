import { Option } from 'nest-commander';
import { SecretsResealer } from '#libs/installation';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { out, printJson, printTable } from '../cli-output';

interface Options {
  json?: boolean;
}

@CliCommand({
  name: 'secrets:reseal',
  description:
    'Re-seal every stored secret with ENCRYPTION_KEY (those sealed with ENCRYPTION_KEY_PREVIOUS, or before values were bound to their rows) ' +
    'and record the key in the database; afterwards ENCRYPTION_KEY_PREVIOUS can be removed.',
})
export class SecretsResealCommand extends CliCommandRunner {
  constructor(private readonly resealer: SecretsResealer) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    const report = await this.resealer.resealAll();
    if (opts.json) printJson(report);
    else {
      printTable(
        ['COLUMN', 'STALE', 'RESEALED', 'FAILED'],
        report.columns.map((c) => [c.column, c.stale, c.resealed, c.failed]),
      );
      out(
        `Re-sealed ${report.resealed} of ${report.stale} secrets, ${report.failed} failed. ` +
          (report.fingerprint_current
            ? 'Every secret is sealed with ENCRYPTION_KEY: ENCRYPTION_KEY_PREVIOUS can be removed.'
            : 'The database still records the previous key.'),
      );
    }
    if (report.failed > 0)
      throw new CliError(`${report.failed} secret(s) open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS`);
  }

  @Option({ flags: '--json', description: 'print the report as JSON' })
  parseJson(): boolean {
    return true;
  }
}
