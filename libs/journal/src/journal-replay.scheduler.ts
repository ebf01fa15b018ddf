import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Journal, ReplayReport } from './journal';

/** How often a running server looks again for journals that dead processes still owe. */
export const REPLAY_RETRY_MS = 5 * 60_000;

/** One line on what a replay did, or null when it found nothing to do. */
export function describeReplay(report: ReplayReport): string | null {
  if (report.journals === 0 && report.torn === 0 && report.failed === 0) return null;
  const applied = Object.entries(report.applied)
    .map(([channel, n]) => `${n} ${channel}`)
    .join(', ');
  return (
    `Replayed ${report.journals} journal(s) of stopped instances: ${applied || 'nothing owed'}` +
    (report.torn > 0 ? `; ${report.torn} line(s) cut short by the kill skipped` : '') +
    (report.failed > 0 ? `; ${report.failed} kept for a later try (see the error above)` : '')
  );
}

/**
 * The start-up replay leaves a journal whose replay failed (the database was down) for later, and an instance
 * sharing this DATA_DIR may die while this one runs: the server looks again every few minutes, so that what they
 * owe (usage, quota counts, spend) does not wait for the next restart. Same lock file and marks as at start-up,
 * so each item is still applied once. Provided by JournalModule's factory (the interval is a parameter for tests).
 */
export class JournalReplayScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Journal');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly journal: Journal,
    private readonly everyMs = REPLAY_RETRY_MS,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** Before the shutdown hooks that close the connections a replay in progress is using. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One look for owed journals; never throws (a failure is logged and tried again next time). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.journal
      .replayOrphans()
      .then((report) => {
        const line = describeReplay(report);
        if (line) this.logger.log(line);
      })
      .catch((err: unknown) =>
        this.logger.warn(`Looking for journals to replay failed: ${(err as { code?: string })?.code ?? 'error'}`),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
