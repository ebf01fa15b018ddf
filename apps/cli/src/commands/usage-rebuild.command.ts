import { InvalidArgumentError } from 'commander';
import { Option } from 'nest-commander';
import { UsageRollupRebuilder } from '#libs/usage';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { out, printJson, progress } from '../cli-output';

interface Options {
  from?: Date;
  to?: Date;
  json?: boolean;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i;

function parseInstant(value: string): Date {
  const at = ISO_WITH_ZONE.test(value) ? new Date(/T/i.test(value) ? value : `${value}T00:00:00Z`) : null;
  if (!at || Number.isNaN(at.getTime()))
    throw new InvalidArgumentError('Expected an ISO 8601 date (2026-11-01) or date-time with a zone (…T10:00:00Z).');
  return at;
}

@CliCommand({
  name: 'usage:rebuild',
  description:
    'Rebuild the usage rollups (which reports read) from the raw ledger, a UTC day at a time: the whole days the window ' +
    'touches (default: everything the ledger holds). Idempotent; days whose raw records retention removed are kept. ' +
    'Progress goes to stderr.',
})
export class UsageRebuildCommand extends CliCommandRunner {
  constructor(private readonly rebuilder: UsageRollupRebuilder) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    if (opts.from && opts.to && opts.from >= opts.to) throw new CliError('--from must be before --to');
    const result = await this.rebuilder.rebuild({ from: opts.from, to: opts.to }, (p) =>
      progress(
        `usage:rebuild ${p.day.toISOString().slice(0, 10)}  ${p.done}/${p.of} day(s)  ${p.records} record(s)  ${p.rollups} rollup row(s)`,
      ),
    );
    const summary = {
      from: result.window?.from.toISOString() ?? null,
      to: result.window?.to.toISOString() ?? null,
      days: result.days,
      records: result.records,
      kept_before: result.keptBefore?.toISOString() ?? null,
    };
    if (opts.json) return printJson(summary);
    if (result.keptBefore)
      out(`Kept the rollups before ${summary.kept_before}: retention removed the raw records they were made from.`);
    if (!result.window) return out('Nothing to rebuild.');
    out(`Rebuilt ${result.days} day(s) from ${summary.from} to ${summary.to}: ${result.records} record(s).`);
  }

  @Option({ flags: '--from <iso>', description: 'start of the window (its UTC day is rebuilt whole)' })
  parseFrom(value: string): Date {
    return parseInstant(value);
  }

  @Option({ flags: '--to <iso>', description: 'end of the window, exclusive (default: now)' })
  parseTo(value: string): Date {
    return parseInstant(value);
  }

  @Option({ flags: '--json', description: 'print JSON' })
  parseJson(): boolean {
    return true;
  }
}
