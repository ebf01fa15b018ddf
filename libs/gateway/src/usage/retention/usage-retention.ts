import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobLease } from '#libs/reconciliation';
import { DAY_MS, floorTo, UsageLedgerState } from '#libs/usage';
import { UsageRecordRepository } from '../usage-record.repository';

export const USAGE_RETENTION_OPTIONS = Symbol('USAGE_RETENTION_OPTIONS');

export interface UsageRetentionOptions {
  /** Whole UTC days of raw records kept; 0 keeps everything. */
  days: number;
  /** Rows per DELETE: each is a short transaction that locks only the rows it removes. */
  batchSize: number;
  /** Rest between batches, so that the ledger's writers and autovacuum keep up. */
  pauseMs: number;
}

export const DEFAULT_RETENTION_BATCH = 5000;
export const DEFAULT_RETENTION_PAUSE_MS = 200;
const LEASE = 'usage-retention';
const LEASE_TTL_MS = 5 * 60_000;

export type RetentionOutcome =
  { ran: true; cutoff: Date; deleted: number } | { ran: false; reason: 'disabled' | 'busy' | 'lease_lost' };

/**
 * Removes raw usage records older than the retention period, in small batches (`ctid = ANY(…)`, found through the
 * BRIN index on created_at), on one process at a time (the job lease). Rollups stay: reports keep their totals.
 * The cutoff is a UTC midnight, so that pruned days are whole; the ledger's "complete from" mark moves there first
 * (under a lock that waits out a rollup rebuild in progress), so that no rebuild reads a half-pruned day.
 */
@Injectable()
export class UsageRetention {
  private readonly logger = new Logger(UsageRetention.name);

  constructor(
    private readonly records: UsageRecordRepository,
    private readonly lease: JobLease,
    private readonly ledger: UsageLedgerState,
    @Inject(USAGE_RETENTION_OPTIONS) private readonly options: UsageRetentionOptions,
  ) {}

  /** `stopping` is asked between batches (the server shutting down): the rest waits for the next run. */
  async run(now = new Date(), stopping: () => boolean = () => false): Promise<RetentionOutcome> {
    if (this.options.days <= 0) return { ran: false, reason: 'disabled' };
    const held = await this.lease.tryAcquire(LEASE, LEASE_TTL_MS);
    if (!held) return { ran: false, reason: 'busy' };
    try {
      const cutoff = floorTo(new Date(now.getTime() - this.options.days * DAY_MS), DAY_MS);
      await this.ledger.markCompleteFrom(cutoff);
      let deleted = 0;
      for (;;) {
        const n = await this.records.pruneBatch(cutoff, this.options.batchSize);
        deleted += n;
        if (n < this.options.batchSize || stopping()) break;
        await sleep(this.options.pauseMs);
        if (!(await held.extend())) {
          this.logger.warn(`Usage retention stopped after ${deleted} record(s): its lease was taken over`);
          return { ran: false, reason: 'lease_lost' };
        }
      }
      if (deleted > 0) this.logger.log(`Usage retention removed ${deleted} record(s) before ${cutoff.toISOString()}`);
      return { ran: true, cutoff, deleted };
    } finally {
      await held.release().catch(() => undefined);
    }
  }
}
