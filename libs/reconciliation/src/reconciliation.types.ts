import type { AuditActor } from '#libs/audit';

export const RECONCILIATION_OPTIONS = Symbol('RECONCILIATION_OPTIONS');

export interface ReconciliationOptions {
  /**
   * Keys younger than this are left alone: a provisioning may be between creating a key upstream and
   * storing it. The command line can pass 0.
   */
  defaultGraceMs: number;
  /** Period of the scheduled run inside the server; null: no schedule (the command line). */
  intervalMs: number | null;
  /** Delay of the first scheduled run after start-up. */
  firstRunDelayMs: number;
}

export const DEFAULT_RECONCILIATION_OPTIONS: ReconciliationOptions = {
  defaultGraceMs: 10 * 60_000,
  intervalMs: 30 * 60_000,
  firstRunDelayMs: 10 * 60_000,
};

export interface ReconcileInput {
  dryRun: boolean;
  /** Defaults to the module's `defaultGraceMs`. */
  graceMs?: number;
  actor: AuditActor;
  /**
   * Retry every queued deletion now, not only those whose backoff has passed: an operator asking
   * for a run (command line, admin route) wants it done; the schedule respects the backoff.
   */
  retryAllQueued?: boolean;
  onProgress?: (event: ReconcileProgress) => void;
}

export type ReconcileProgress =
  | { kind: 'queue'; attempted: number; deleted: number }
  | { kind: 'page'; page: number; scanned: number }
  | { kind: 'scanned'; scanned: number; ours: number; orphans: number }
  | { kind: 'deleted'; hash: string; name: string }
  | { kind: 'delete_failed'; hash: string; name: string; code: string };

export interface OrphanKey {
  hash: string;
  name: string;
  label: string | null;
  /** The user the key was created for, read from its name. */
  user_id: string;
  created_at: string | null;
  disabled: boolean;
  /** Set after a real (not dry) run. */
  deleted?: boolean;
  error_code?: string;
}

export interface ReconcileReport {
  dry_run: boolean;
  grace_seconds: number;
  /** Upstream keys seen, any name. */
  scanned: number;
  /** Keys named by this installation (`umb:<user>:<installation>:<ms>`). */
  ours: number;
  /** Keys named by another installation sharing the provisioning key: never touched. */
  other_installations: number;
  /** Keys named before installation ids existed (`umb:<user>:<ms>`): never treated as orphans. */
  unattributed: number;
  /** Ours and referenced by a user's row. */
  referenced: number;
  /** Ours, unreferenced, but younger than the grace period: left for a later run. */
  too_recent: number;
  /** Ours, unreferenced, queued for deletion already (the queue deletes them). */
  queued: number;
  orphans: OrphanKey[];
  deleted: number;
  failed: number;
  /** The deletion queue (keys replaced by refresh or renewal): retried first. */
  queue: { attempted: number; deleted: number; pending: number };
}

export class ReconciliationBusyError extends Error {
  constructor(readonly holder: string | null) {
    super(`Another OpenRouter reconciliation is running${holder ? ` (${holder})` : ''}; try again later`);
    this.name = 'ReconciliationBusyError';
  }
}
