import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { UsageRetention } from './usage-retention';

const JOB = 'usage-retention';
const FIRST_RUN_DELAY_MS = 60_000;
const INTERVAL_MS = 60 * 60_000;

/**
 * Runs the usage retention hourly inside the server (the cutoff moves a day at a time, an hour's delay is nothing).
 * Every instance schedules it; the job lease lets one of them run it at a time.
 */
@Injectable()
export class UsageRetentionScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRetentionScheduler.name);
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly retention: UsageRetention,
    private readonly registry: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const first = setTimeout(() => void this.tick(), FIRST_RUN_DELAY_MS);
    first.unref();
    this.registry.addTimeout(`${JOB}:first`, first);
    const every = setInterval(() => void this.tick(), INTERVAL_MS);
    every.unref();
    this.registry.addInterval(JOB, every);
  }

  // Before the shutdown hooks that close the connections a run in progress is using.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.registry.doesExist('timeout', `${JOB}:first`)) this.registry.deleteTimeout(`${JOB}:first`);
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
    await this.running;
  }

  /** One scheduled round; never throws. */
  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.retention
      .run(new Date(), () => this.stopped)
      .then(() => undefined)
      .catch((err: unknown) =>
        this.logger.warn(`Usage retention failed: ${(err as { code?: string })?.code ?? (err as Error)?.name}`),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
