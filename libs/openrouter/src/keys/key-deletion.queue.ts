import { Injectable, Logger } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { AuditService, SYSTEM_ACTOR } from '#libs/audit';
import { OpenRouterClient, OpenRouterError } from '../client';
import { OpenRouterKeyDeletionRepository } from './openrouter-key-deletion.repository';
import { OpenRouterKeyRepository } from './openrouter-key.repository';

/**
 * Upstream keys that must be deleted at OpenRouter. A key is queued in the same transaction that
 * replaces it, so that a failed or interrupted deletion is retried later and never forgotten.
 */
@Injectable()
export class KeyDeletionQueue {
  private readonly logger = new Logger(KeyDeletionQueue.name);

  constructor(
    private readonly queue: OpenRouterKeyDeletionRepository,
    private readonly keys: OpenRouterKeyRepository,
    private readonly transactions: Transactions,
    private readonly client: OpenRouterClient,
    private readonly audit: AuditService,
  ) {}

  enqueue(uow: UnitOfWork, upstreamHash: string, userId: string | null, reason: string): Promise<void> {
    return this.queue.enqueue(uow, upstreamHash, userId, reason);
  }

  /**
   * The user is gone (deleted in Clerk): their key row becomes 'disabled' (inserted if missing, which
   * also stops the login hook from provisioning a new one) and their upstream key is queued for
   * deletion, in the caller's transaction. Returns the queued hash (delete it with deleteNow after the
   * commit), or null when they had none.
   */
  async disableUserKey(uow: UnitOfWork, userId: string, reason: string): Promise<string | null> {
    const hash = await this.keys.lockUpstreamHash(uow, userId);
    await this.keys.disable(uow, userId);
    if (hash) await this.enqueue(uow, hash, userId, reason);
    return hash;
  }

  /** Deletes one queued key upstream now; on failure it stays queued with a later attempt time. */
  async deleteNow(upstreamHash: string): Promise<boolean> {
    try {
      await this.client.deleteKey(upstreamHash);
    } catch (err) {
      const code = err instanceof OpenRouterError ? err.code : 'unexpected_error';
      await this.queue.recordFailedAttempt(upstreamHash, code);
      this.logger.warn(`Deleting replaced OpenRouter key ${upstreamHash} failed (${code}); it stays queued`);
      return false;
    }
    await this.transactions.run(async (uow) => {
      const userId = await this.queue.remove(uow, upstreamHash);
      await this.audit.record(
        {
          action: 'openrouter_key.deleted',
          actor: SYSTEM_ACTOR,
          target: { type: 'openrouter_key', id: upstreamHash },
          metadata: { user_id: userId },
        },
        uow,
      );
    });
    return true;
  }

  /** Retries the deletions that are due; returns how many succeeded. */
  async retryDue(limit = 50): Promise<{ attempted: number; deleted: number }> {
    const due = await this.queue.due(limit);
    let deleted = 0;
    for (const d of due) if (await this.deleteNow(d.upstreamHash)) deleted++;
    return { attempted: due.length, deleted };
  }

  async pendingHashes(): Promise<Set<string>> {
    return new Set(await this.queue.pendingHashes());
  }
}
