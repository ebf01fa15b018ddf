import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { JobLeaseRepository } from './job-lease.repository';

const PROCESS_ID = `${hostname()}:${process.pid}`;

/** A held lease; `extend` pushes its end further, `release` gives it up. */
export interface HeldLease {
  readonly name: string;
  readonly token: string;
  /** False when the lease expired and someone else took it: the holder must stop. */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Named leases in `job_leases`, taken with one conditional UPDATE, so that one process at a time
 * (server instance or command line) runs a job. No connection or transaction is held while the job
 * runs, which matters on the embedded database's single connection; a crashed holder's lease just
 * expires.
 */
@Injectable()
export class JobLease {
  constructor(private readonly leases: JobLeaseRepository) {}

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | null> {
    // Each acquisition has its own token: a holder whose lease expired and was taken again cannot extend or release
    // its successor's, even in the same process.
    const token = `${PROCESS_ID}:${randomUUID().slice(0, 8)}`;
    await this.leases.ensure(name);
    if (!(await this.leases.take(name, token, ttlMs))) return null;
    return {
      name,
      token,
      extend: () => this.leases.extend(name, token, ttlMs),
      release: () => this.leases.release(name, token),
    };
  }

  /** Who holds the lease and until when, for messages; null when free. */
  holder(name: string): Promise<{ owner: string; until: Date } | null> {
    return this.leases.holder(name);
  }
}
