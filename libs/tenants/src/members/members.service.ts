import { Inject, Injectable, Logger } from '@nestjs/common';
import { Transactions, type UnitOfWork } from '#libs/database';
import { AuditService } from '#libs/audit';
import { AppError, Errors } from '#libs/common';
import { TenantRole } from '../roles';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { lockTenant } from '../access/tenant-lock';
import { AfterCommit, TenantChangeHooks } from '../hooks/tenant-change.hooks';
import { Invitee, INVITEE_DIRECTORY, InviteeDirectory } from './invitee-directory';
import { TenantRepository } from '../tenant.repository';
import { MembershipRepository, MemberRow, TenantMemberships } from './membership.repository';

/**
 * What the acting credential may do to memberships: `owner` (a Clerk owner) or `admin` (a Clerk admin,
 * or an API key with users:write). Only owners grant, change or remove the owner role.
 */
export type MemberManagerRole = 'owner' | 'admin';

/**
 * An API key acting on memberships: it may do what its user could do signed in, judged now (under the
 * tenant lock), and never touches its own user's membership.
 */
export interface KeyManager {
  keyUserId: string | null;
}

/** Who manages: a role already checked (Clerk routes, operators), or a key's user, checked here. */
export type MemberManager = MemberManagerRole | KeyManager;

export type NewMember =
  { email: string; userId?: undefined; role: TenantRole } | { userId: string; email?: undefined; role: TenantRole };

/** Adding, re-roling and removing members, each audited in its transaction; the last owner stays. */
@Injectable()
export class MembersService {
  private readonly logger = new Logger(MembersService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly tenants: TenantRepository,
    private readonly memberships: MembershipRepository,
    @Inject(INVITEE_DIRECTORY) private readonly invitees: InviteeDirectory,
    private readonly audit: AuditService,
    private readonly hooks: TenantChangeHooks,
    private readonly bus: InvalidationBus,
  ) {}

  async add(tenantId: string, manager: MemberManager, input: NewMember, scope: AuditScope): Promise<MemberRow> {
    if (typeof manager === 'string') mayManage(manager, input.role);
    const member = await this.transactions.run(async (uow) => {
      await lockTenant(this.tenants, uow, tenantId);
      const members = this.memberships.forTenant(tenantId);
      const role = await this.managerRole(uow, members, manager, input.userId ?? null);
      mayManage(role, input.role);
      const user =
        input.userId !== undefined
          ? await this.invitees.byId(uow, input.userId)
          : await this.invitees.byEmail(uow, input.email);
      if (typeof manager !== 'string' && user.id === manager.keyUserId) throw selfTouch();
      if (!(await members.insert(uow, user.id, input.role))) {
        throw new AppError('already_member', 'This user is already a member of the tenant');
      }
      await this.audit.record(
        {
          action: 'member.added',
          ...scope,
          tenantId,
          target: { type: 'user', id: user.id },
          metadata: { role: input.role, pending: user.status === 'pending' },
        },
        uow,
      );
      return (await members.find(user.id, uow))!;
    });
    await this.bus.publish(CacheTopic.user, member.userId); // the user's cached tenants and roles
    return member;
  }

  /** The user an email names, a pending (invited) one when nobody signed in with it yet. */
  async invite(email: string): Promise<Invitee> {
    return this.transactions.run((uow) => this.invitees.byEmail(uow, email));
  }

  async changeRole(
    tenantId: string,
    manager: MemberManager,
    userId: string,
    role: TenantRole,
    scope: AuditScope,
  ): Promise<MemberRow> {
    const member = await this.transactions.run(async (uow) => {
      await lockTenant(this.tenants, uow, tenantId);
      const members = this.memberships.forTenant(tenantId);
      const managerRole = await this.managerRole(uow, members, manager, userId);
      const current = await this.requireRole(uow, members, userId);
      mayManage(managerRole, current, role);
      if (current !== role) {
        if (current === 'owner') await this.keepAnOwner(uow, members);
        await this.writeRole(uow, members, userId, current, role, scope);
      }
      return (await members.find(userId, uow))!;
    });
    await this.bus.publish(CacheTopic.user, userId);
    return member;
  }

  /** Removes the membership; capabilities on top (the user's API keys in the tenant) follow. */
  async remove(tenantId: string, manager: MemberManager, userId: string, scope: AuditScope): Promise<void> {
    const after = await this.transactions.run(async (uow) => {
      await lockTenant(this.tenants, uow, tenantId);
      const members = this.memberships.forTenant(tenantId);
      const managerRole = await this.managerRole(uow, members, manager, userId);
      const current = await this.requireRole(uow, members, userId);
      mayManage(managerRole, current);
      if (current === 'owner') await this.keepAnOwner(uow, members);
      return this.removeLocked(uow, members, userId, current, scope);
    });
    await this.bus.publish(CacheTopic.user, userId);
    await this.runAfterCommit(after);
  }

  /**
   * Clerk's organization membership, mirrored in the caller's transaction (a webhook delivery): added
   * with Clerk's role, or re-roled to it; an owner is never demoted by Clerk (as at login). Returns
   * whether anything changed; the caller publishes the user's invalidation after its commit.
   */
  async mirrorMembership(
    uow: UnitOfWork,
    tenantId: string,
    userId: string,
    role: TenantRole,
    scope: AuditScope,
    clerkRole: string | null,
  ): Promise<boolean> {
    await lockTenant(this.tenants, uow, tenantId);
    const members = this.memberships.forTenant(tenantId);
    const current = await members.lockRole(uow, userId);
    if (!current) {
      await members.insert(uow, userId, role);
      await this.audit.record(
        {
          action: 'member.added',
          ...scope,
          tenantId,
          target: { type: 'user', id: userId },
          metadata: { role, clerk_role: clerkRole },
        },
        uow,
      );
      return true;
    }
    if (current === role || current === 'owner') return false;
    await this.writeRole(uow, members, userId, current, role, scope);
    return true;
  }

  /**
   * Clerk ended the membership: removed in the caller's transaction, with the same rule as every
   * removal (the last owner stays: then nothing changes and `removed` is false). Returns the work to run
   * after the caller's commit.
   */
  async mirrorRemoval(
    uow: UnitOfWork,
    tenantId: string,
    userId: string,
    scope: AuditScope,
  ): Promise<{ removed: boolean; afterCommit: AfterCommit[] }> {
    await lockTenant(this.tenants, uow, tenantId);
    const members = this.memberships.forTenant(tenantId);
    const current = await members.lockRole(uow, userId);
    if (!current) return { removed: false, afterCommit: [] };
    if (current === 'owner' && (await members.countOwners(uow)) <= 1) {
      this.logger.warn(`Clerk removed the last owner of tenant ${tenantId}; the membership is kept`);
      return { removed: false, afterCommit: [] };
    }
    return { removed: true, afterCommit: await this.removeLocked(uow, members, userId, current, scope) };
  }

  /** The removal itself, the tenant locked and the rules checked: hooks, delete, audit. */
  private async removeLocked(
    uow: UnitOfWork,
    members: TenantMemberships,
    userId: string,
    current: TenantRole,
    scope: AuditScope,
  ): Promise<AfterCommit[]> {
    const tenantId = members.tenantId;
    const work = await this.hooks.memberRemoving({ uow, tenantId, userId, audit: scope });
    await members.delete(uow, userId);
    await this.audit.record(
      {
        action: 'member.removed',
        ...scope,
        tenantId,
        target: { type: 'user', id: userId },
        metadata: { role: current },
      },
      uow,
    );
    return work;
  }

  /**
   * The role the change is judged with. A key's user must hold owner or admin in the tenant at this
   * moment (the tenant is locked, so a concurrent demotion is either before or after), and may not
   * touch their own membership through a key.
   */
  private async managerRole(
    uow: UnitOfWork,
    members: TenantMemberships,
    manager: MemberManager,
    targetUserId: string | null,
  ): Promise<MemberManagerRole> {
    if (typeof manager === 'string') return manager;
    if (manager.keyUserId === null) throw Errors.forbidden('This API key acts as no user: it cannot manage members');
    const role = await members.lockRole(uow, manager.keyUserId);
    if (role !== 'owner' && role !== 'admin') {
      throw Errors.forbidden("Managing members needs the key's user to be an owner or admin of the tenant");
    }
    if (targetUserId === manager.keyUserId) throw selfTouch();
    return role;
  }

  private async requireRole(uow: UnitOfWork, members: TenantMemberships, userId: string): Promise<TenantRole> {
    const role = await members.lockRole(uow, userId);
    if (!role) throw Errors.notFound('Member');
    return role;
  }

  /** The role change itself and its audit row, in the caller's transaction (tenant locked, rules checked). */
  private async writeRole(
    uow: UnitOfWork,
    members: TenantMemberships,
    userId: string,
    from: TenantRole,
    to: TenantRole,
    scope: AuditScope,
  ): Promise<void> {
    await members.setRole(uow, userId, to);
    await this.audit.record(
      {
        action: 'member.role_changed',
        ...scope,
        tenantId: members.tenantId,
        target: { type: 'user', id: userId },
        metadata: { from, to },
      },
      uow,
    );
  }

  /** Called before an owner is demoted or removed: there must be another owner. */
  private async keepAnOwner(uow: UnitOfWork, members: TenantMemberships): Promise<void> {
    if ((await members.countOwners(uow)) <= 1) {
      throw new AppError('last_owner', 'The last owner of a tenant cannot be removed or demoted');
    }
  }

  private async runAfterCommit(work: AfterCommit[]): Promise<void> {
    try {
      await TenantChangeHooks.runAll(work);
    } catch (err) {
      this.logger.error({ err }, 'After-commit work of a membership change failed');
    }
  }
}

function selfTouch() {
  return Errors.forbidden("An API key cannot change or remove its own user's membership");
}

function mayManage(manager: MemberManagerRole, ...roles: TenantRole[]): void {
  if (manager !== 'owner' && roles.includes('owner')) {
    throw Errors.forbidden('Only an owner can grant, change or remove the owner role');
  }
}
