import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '#libs/audit';
import { DeploymentIdentity } from '#libs/installation';
import { KeyDeletionQueue, OpenRouterClient, OpenRouterError, parseKeyName, UpstreamKey } from '#libs/openrouter';
import { JobLease } from './job-lease';
import { UpstreamKeyReferenceRepository } from './read-model/upstream-key-reference.repository';
import {
  RECONCILIATION_OPTIONS,
  ReconcileInput,
  ReconcileReport,
  ReconciliationBusyError,
  ReconciliationOptions,
} from './reconciliation.types';

export const RECONCILE_LEASE = 'openrouter-reconcile';
const LEASE_TTL_MS = 5 * 60_000;
/** OpenRouter's page size for GET /keys, used only to report progress by page. */
const PAGE_SIZE = 100;
const QUEUE_BATCH = 50;

/**
 * Finds upstream keys this installation created (named `umb:<user uuid>:<installation id>:<ms>`) that
 * no user references any more — left behind by a crash between creation and storage, or a lost
 * deletion — and deletes them; retries the deletion queue first. Never touched: keys of other services
 * (any other name), of other installations sharing the provisioning key (another id), keys named
 * before installation ids existed (`umb:<user>:<ms>`: they cannot be attributed; those this database
 * still references or has queued are kept or deleted through the queue), and keys younger than the
 * grace period (a provisioning may not have stored its key yet).
 */
@Injectable()
export class OpenRouterReconciler {
  private readonly logger = new Logger(OpenRouterReconciler.name);

  constructor(
    private readonly references: UpstreamKeyReferenceRepository,
    private readonly client: OpenRouterClient,
    private readonly deletions: KeyDeletionQueue,
    private readonly audit: AuditService,
    private readonly lease: JobLease,
    private readonly identity: DeploymentIdentity,
    @Inject(RECONCILIATION_OPTIONS) private readonly options: ReconciliationOptions,
  ) {}

  get configured(): boolean {
    return this.client.provisioningConfigured;
  }

  /** Runs once, holding the job lease; throws ReconciliationBusyError while another run holds it. */
  async run(input: ReconcileInput): Promise<ReconcileReport> {
    const held = await this.lease.tryAcquire(RECONCILE_LEASE, LEASE_TTL_MS);
    if (!held) throw new ReconciliationBusyError((await this.lease.holder(RECONCILE_LEASE))?.owner ?? null);
    try {
      return await this.reconcile(input, async () => {
        if (!(await held.extend())) throw new ReconciliationBusyError(null);
      });
    } finally {
      await held
        .release()
        .catch((err) =>
          this.logger.warn(`Releasing the reconciliation lease failed: ${String((err as Error)?.message)}`),
        );
    }
  }

  private async reconcile(input: ReconcileInput, keepLease: () => Promise<void>): Promise<ReconcileReport> {
    const graceMs = Math.max(0, input.graceMs ?? this.options.defaultGraceMs);
    const progress = input.onProgress ?? (() => undefined);

    // 1. Replaced keys whose deletion failed before: the queue knows them, retry what is due.
    const queue = { attempted: 0, deleted: 0, pending: 0 };
    if (!input.dryRun && input.retryAllQueued) {
      for (const hash of await this.deletions.pendingHashes()) {
        queue.attempted++;
        if (await this.deletions.deleteNow(hash)) queue.deleted++;
      }
      progress({ kind: 'queue', ...queue });
    } else if (!input.dryRun) {
      for (;;) {
        const batch = await this.deletions.retryDue(QUEUE_BATCH);
        queue.attempted += batch.attempted;
        queue.deleted += batch.deleted;
        if (batch.attempted < QUEUE_BATCH || batch.deleted === 0) break;
      }
      progress({ kind: 'queue', ...queue });
    }

    // 2. Every upstream key, collected first: deleting while paging would shift the offsets.
    const upstream: UpstreamKey[] = [];
    for await (const key of this.client.iterateKeys({ includeDisabled: true })) {
      upstream.push(key);
      if (upstream.length % PAGE_SIZE === 0) {
        progress({ kind: 'page', page: upstream.length / PAGE_SIZE, scanned: upstream.length });
        await keepLease();
      }
    }
    if (upstream.length % PAGE_SIZE !== 0 || upstream.length === 0) {
      progress({ kind: 'page', page: Math.ceil(upstream.length / PAGE_SIZE) || 1, scanned: upstream.length });
    }

    // 3. References are read after the listing, so that a key stored meanwhile counts as referenced.
    const referenced = await this.references.referencedHashes();
    const pending = await this.deletions.pendingHashes();
    queue.pending = pending.size;
    const cutoff = Date.now() - graceMs;
    const report: ReconcileReport = {
      dry_run: input.dryRun,
      grace_seconds: Math.round(graceMs / 1000),
      scanned: upstream.length,
      ours: 0,
      other_installations: 0,
      unattributed: 0,
      referenced: 0,
      too_recent: 0,
      queued: 0,
      orphans: [],
      deleted: 0,
      failed: 0,
      queue,
    };
    const installationId = this.identity.installationId;
    for (const key of upstream) {
      const parsed = parseKeyName(key.name);
      if (!parsed) continue;
      if (parsed.installationId !== installationId) {
        if (parsed.installationId === null) report.unattributed++;
        else report.other_installations++;
        continue;
      }
      report.ours++;
      if (referenced.has(key.hash)) report.referenced++;
      else if (pending.has(key.hash)) report.queued++;
      else if (createdAfter(key, cutoff)) report.too_recent++;
      else
        report.orphans.push({
          hash: key.hash,
          name: key.name,
          label: key.label,
          user_id: parsed.userId,
          created_at: key.createdAt,
          disabled: key.disabled,
        });
    }
    progress({ kind: 'scanned', scanned: report.scanned, ours: report.ours, orphans: report.orphans.length });
    if (input.dryRun) return report;

    // 4. Delete the orphans, each checked once more just before.
    for (const orphan of report.orphans) {
      await keepLease();
      if (await this.references.isReferencedOrQueued(orphan.hash)) {
        report.referenced++;
        orphan.deleted = false;
        continue;
      }
      try {
        const { alreadyGone } = await this.client.deleteKey(orphan.hash);
        await this.audit.record({
          action: 'openrouter_key.deleted',
          actor: input.actor,
          target: { type: 'openrouter_key', id: orphan.hash },
          metadata: {
            reason: 'orphaned',
            name: orphan.name,
            label: orphan.label,
            user_id: orphan.user_id,
            already_gone: alreadyGone,
          },
        });
        orphan.deleted = true;
        report.deleted++;
        progress({ kind: 'deleted', hash: orphan.hash, name: orphan.name });
      } catch (err) {
        const code = err instanceof OpenRouterError ? err.code : 'unexpected_error';
        orphan.deleted = false;
        orphan.error_code = code;
        report.failed++;
        this.logger.warn(`Deleting orphaned OpenRouter key ${orphan.hash} failed (${code}); a later run retries`);
        progress({ kind: 'delete_failed', hash: orphan.hash, name: orphan.name, code });
      }
    }
    this.logger.log(
      `OpenRouter reconciliation: ${report.scanned} keys scanned, ${report.ours} ours, ${report.deleted} orphans deleted, ${report.failed} failed, queue ${queue.deleted}/${queue.attempted}`,
    );
    return report;
  }
}

/**
 * Young by either clock: OpenRouter's `created_at`, or the time in the key's name (taken just before
 * the key was created). A key without a readable time counts as young, so that it is never
 * deleted early.
 */
function createdAfter(key: UpstreamKey, cutoffMs: number): boolean {
  const fromName = Number(/:(\d+)$/.exec(key.name)?.[1]);
  const fromUpstream = key.createdAt ? Date.parse(key.createdAt) : NaN;
  const times = [fromName, fromUpstream].filter((t) => Number.isFinite(t));
  if (times.length === 0) return true;
  return Math.max(...times) > cutoffMs;
}
