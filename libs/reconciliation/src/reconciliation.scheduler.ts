import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SYSTEM_ACTOR } from '#libs/audit';
import { OpenRouterReconciler } from './openrouter-reconciler';
import { RECONCILIATION_OPTIONS, ReconciliationBusyError, ReconciliationOptions } from './reconciliation.types';

const JOB = 'openrouter-reconcile';

/**
 * Runs the reconciliation periodically inside the server. Every instance schedules it; the job lease
 * lets one of them (or the command line) run at a time, and the others skip that round.
 */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReconciliationScheduler.name);
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly reconciler: OpenRouterReconciler,
    private readonly registry: SchedulerRegistry,
    @Inject(RECONCILIATION_OPTIONS) private readonly options: ReconciliationOptions,
  ) {}

  onApplicationBootstrap(): void {
    const { intervalMs, firstRunDelayMs } = this.options;
    if (!intervalMs) return;
    const first = setTimeout(() => void this.tick(), firstRunDelayMs);
    first.unref();
    this.registry.addTimeout(`${JOB}:first`, first);
    const every = setInterval(() => void this.tick(), intervalMs);
    every.unref();
    this.registry.addInterval(JOB, every);
  }

  // Before the shutdown hooks that close the connections a run in progress is using.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const [kind, name] of [
      ['timeout', `${JOB}:first`],
      ['interval', JOB],
    ] as const) {
      if (this.registry.doesExist(kind, name)) {
        if (kind === 'timeout') this.registry.deleteTimeout(name);
        else this.registry.deleteInterval(name);
      }
    }
    // Let a run in progress finish its current step rather than cut it off mid-deletion.
    await this.running?.catch(() => undefined);
  }

  /** One scheduled round; never throws. */
  tick(): Promise<void> {
    if (this.running || this.stopped || !this.reconciler.configured) return this.running ?? Promise.resolve();
    this.running = this.reconciler
      .run({ dryRun: false, actor: SYSTEM_ACTOR })
      .then(() => undefined)
      .catch((err) => {
        if (err instanceof ReconciliationBusyError)
          this.logger.debug('Reconciliation skipped: another instance is running it');
        else
          this.logger.warn(
            `Scheduled OpenRouter reconciliation failed: ${(err as { code?: string })?.code ?? (err as Error)?.name ?? 'error'}`,
          );
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
