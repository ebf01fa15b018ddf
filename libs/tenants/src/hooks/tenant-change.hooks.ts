import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '#libs/database';
import type { AuditScope } from '../access/audit-scope';

/** Work to do once the transaction committed (e.g. dropping caches on every instance). */
export type AfterCommit = () => void | Promise<void>;

export interface TenantDeletingEvent {
  uow: UnitOfWork;
  tenantId: string;
  audit: AuditScope;
}

export interface MemberRemovingEvent extends TenantDeletingEvent {
  userId: string;
}

/**
 * What capabilities built on tenants (API keys) do when a tenant or a membership goes away. They
 * register here at start-up, so that tenants need not know them (no dependency cycle).
 */
export interface TenantChangeListener {
  /** Runs inside the deleting transaction; may return work for after the commit. */
  tenantDeleting?(event: TenantDeletingEvent): Promise<AfterCommit | void>;
  /** Runs inside the removing transaction; may return work for after the commit. */
  memberRemoving?(event: MemberRemovingEvent): Promise<AfterCommit | void>;
}

@Injectable()
export class TenantChangeHooks {
  private readonly listeners: TenantChangeListener[] = [];

  register(listener: TenantChangeListener): void {
    this.listeners.push(listener);
  }

  async tenantDeleting(event: TenantDeletingEvent): Promise<AfterCommit[]> {
    const after: AfterCommit[] = [];
    for (const l of this.listeners) {
      const work = await l.tenantDeleting?.(event);
      if (work) after.push(work);
    }
    return after;
  }

  async memberRemoving(event: MemberRemovingEvent): Promise<AfterCommit[]> {
    const after: AfterCommit[] = [];
    for (const l of this.listeners) {
      const work = await l.memberRemoving?.(event);
      if (work) after.push(work);
    }
    return after;
  }

  /** Runs after-commit work; a failure there is logged by the caller, never undoes the change. */
  static async runAll(work: AfterCommit[]): Promise<void> {
    for (const w of work) await w();
  }
}
