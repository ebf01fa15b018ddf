import { InvalidArgumentError } from 'commander';
import { Option } from 'nest-commander';
import {
  OpenRouterReconciler,
  ReconcileProgress,
  ReconcileReport,
  ReconciliationBusyError,
} from '#libs/reconciliation';
import { cliActor } from '../cli-actor';
import { CliCommand, CliCommandRunner, CliError } from '../cli-command';
import { out, printJson, printTable, progress } from '../cli-output';

interface Options {
  dryRun?: boolean;
  graceSeconds?: number;
  json?: boolean;
}

@CliCommand({
  name: 'openrouter:reconcile',
  description:
    'Delete upstream OpenRouter keys this installation created (named umb:<user>:<installation>:<time>) that no user references; ' +
    'retries queued deletions first. Keys of other services and other installations are never touched. Progress goes to stderr.',
})
export class OpenRouterReconcileCommand extends CliCommandRunner {
  constructor(private readonly reconciler: OpenRouterReconciler) {
    super();
  }

  async run(_args: string[], opts: Options): Promise<void> {
    if (!this.reconciler.configured)
      throw new CliError('OPENROUTER_PROVISIONING_API_KEY is not set: nothing to reconcile');
    let report: ReconcileReport;
    try {
      report = await this.reconciler.run({
        dryRun: Boolean(opts.dryRun),
        graceMs: opts.graceSeconds === undefined ? undefined : opts.graceSeconds * 1000,
        actor: cliActor(),
        retryAllQueued: true,
        onProgress: showProgress,
      });
    } catch (err) {
      if (err instanceof ReconciliationBusyError) throw new CliError(err.message);
      throw err;
    }
    if (opts.json) printJson(report);
    else printReport(report);
    if (report.failed > 0) throw new CliError(`${report.failed} orphaned key(s) could not be deleted; run again later`);
  }

  @Option({ flags: '--dry-run', description: 'list the orphaned keys without deleting anything' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--grace-seconds <n>', description: 'leave keys younger than this alone (default 600; 0 for none)' })
  parseGrace(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 30 * 86_400)
      throw new InvalidArgumentError('Expected a whole number of seconds from 0 to 2592000.');
    return n;
  }

  @Option({ flags: '--json', description: 'print the report as JSON' })
  parseJson(): boolean {
    return true;
  }
}

function showProgress(event: ReconcileProgress): void {
  switch (event.kind) {
    case 'queue':
      if (event.attempted) progress(`queued deletions: ${event.deleted} of ${event.attempted} deleted`);
      break;
    case 'page':
      progress(`page ${event.page}: ${event.scanned} keys scanned`);
      break;
    case 'scanned':
      progress(
        `scan done: ${event.scanned} keys, ${event.ours} created by this installation, ${event.orphans} orphaned`,
      );
      break;
    case 'deleted':
      progress(`deleted ${event.name} (${event.hash})`);
      break;
    case 'delete_failed':
      progress(`could not delete ${event.name} (${event.hash}): ${event.code}`);
      break;
  }
}

function printReport(r: ReconcileReport): void {
  out(
    `Scanned ${r.scanned} upstream keys: ${r.ours} created by this installation (${r.referenced} in use, ${r.queued} queued for deletion, ` +
      `${r.too_recent} younger than ${r.grace_seconds}s), ${r.orphans.length} orphaned; left alone: ${r.other_installations} of other ` +
      `installations, ${r.unattributed} named before installation ids.`,
  );
  if (r.orphans.length) {
    printTable(
      ['HASH', 'NAME', 'LABEL', 'CREATED', r.dry_run ? 'ACTION' : 'RESULT'],
      r.orphans.map((o) => [
        o.hash,
        o.name,
        o.label,
        o.created_at,
        r.dry_run ? 'would delete' : o.deleted ? 'deleted' : `failed (${o.error_code ?? 'skipped'})`,
      ]),
    );
  }
  if (r.dry_run)
    out(
      `Dry run: nothing deleted${r.orphans.length ? `; run without --dry-run to delete ${r.orphans.length} key(s)` : ''}.`,
    );
  else
    out(
      `Deleted ${r.deleted} orphaned key(s), ${r.failed} failed; queued deletions: ${r.queue.deleted} of ${r.queue.attempted} deleted, ${r.queue.pending} still pending.`,
    );
}
