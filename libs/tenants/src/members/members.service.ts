import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { unitOfWorkOf } from '#libs/database';
import { AuditService } from '#libs/audit';
import { AppError, Errors } from '#libs/common';
import { TenantRole } from '../roles';
import { CacheTopic, InvalidationBus } from '#libs/redis';
import type { AuditScope } from '../access/audit-scope';
import { lockTenant } from '../access/tenant-lock';
import { AfterCommit, TenantChangeHooks } from '../hooks/tenant-change.hooks';
import { Invitee, INVITEE_DIRECTORY, InviteeDirectory } from './invitee-directory';
import { MemberRepository, MemberRow } from './member.repository';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly members: MemberRepository,
    @Inject(INVITEE_DIRECTORY) private readonly invitees: InviteeDirectory,
    private readonly audit: AuditService,
    private readonly hooks: TenantChangeHooks,
    private readonly bus: InvalidationBus,
  ) {}

  async add(tenantId: string, manager: MemberManager, input: NewMember, scope: AuditScope): Promise<MemberRow> {
    if (typeof manager === 'string') mayManage(manager, input.role);
    const member = await this.dataSource.transaction(async (m) => {
      await lockTenant(m, tenantId);
      const role = await this.managerRole(m, tenantId, manager, input.userId ?? null);
      mayManage(role, input.role);
      const user =
        input.userId !== undefined
          ? await this.invitees.byId(unitOfWorkOf(m), input.userId)
          : await this.invitees.byEmail(unitOfWorkOf(m), input.email);
      if (typeof manager !== 'string' && user.id === manager.keyUserId) throw selfTouch();
      if (!(await this.members.insert(m, tenantId, user.id, input.role))) {
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
        unitOfWorkOf(m),
      );
      return (await this.members.find(tenantId, user.id, m))!;
    });
    await this.bus.publish(CacheTopic.user, member.userId); // the user's cached tenants and roles
    return member;
  }

  /** The user an email names, a pending (invited) one when nobody signed in with it yet. */
  async invite(email: string): Promise<Invitee> {
    return this.dataSource.transaction((m) => this.invitees.byEmail(unitOfWorkOf(m), email));
  }

  async changeRole(
    tenantId: string,
    manager: MemberManager,
    userId: string,
    role: TenantRole,
    scope: AuditScope,
  ): Promise<MemberRow> {
    const member = await this.dataSource.transaction(async (m) => {
      await lockTenant(m, tenantId);
      const managerRole = await this.managerRole(m, tenantId, manager, userId);
      const current = await this.requireRole(m, tenantId, userId);
      mayManage(managerRole, current, role);
      if (current !== role) {
        if (current === 'owner') await this.keepAnOwner(m, tenantId);
        await this.writeRole(m, tenantId, userId, current, role, scope);
      }
      return (await this.members.find(tenantId, userId, m))!;
    });
    await this.bus.publish(CacheTopic.user, userId);
    return member;
  }

  /** Removes the membership; capabilities on top (the user's API keys in the tenant) follow. */
  async remove(tenantId: string, manager: MemberManager, userId: string, scope: AuditScope): Promise<void> {
    const after = await this.dataSource.transaction(async (m) => {
      await lockTenant(m, tenantId);
      const managerRole = await this.managerRole(m, tenantId, manager, userId);
      const current = await this.requireRole(m, tenantId, userId);
      mayManage(managerRole, current);
      if (current === 'owner') await this.keepAnOwner(m, tenantId);
      return this.removeLocked(m, tenantId, userId, current, scope);
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
    m: EntityManager,
    tenantId: string,
    userId: string,
    role: TenantRole,
    scope: AuditScope,
    clerkRole: string | null,
  ): Promise<boolean> {
    await lockTenant(m, tenantId);
    const current = await this.members.lockRole(m, tenantId, userId);
    if (!current) {
      await this.members.insert(m, tenantId, userId, role);
      await this.audit.record(
        {
          action: 'member.added',
          ...scope,
          tenantId,
          target: { type: 'user', id: userId },
          metadata: { role, clerk_role: clerkRole },
        },
        unitOfWorkOf(m),
      );
      return true;
    }
    if (current === role || current === 'owner') return false;
    await this.writeRole(m, tenantId, userId, current, role, scope);
    return true;
  }

  /**
   * Clerk ended the membership: removed in the caller's transaction, with the same rule as every
   * removal (the last owner stays: then nothing changes and `removed` is false). Returns the work to run
   * after the caller's commit.
   */
  async mirrorRemoval(
    m: EntityManager,
    tenantId: string,
    userId: string,
    scope: AuditScope,
  ): Promise<{ removed: boolean; afterCommit: AfterCommit[] }> {
    await lockTenant(m, tenantId);
    const current = await this.members.lockRole(m, tenantId, userId);
    if (!current) return { removed: false, afterCommit: [] };
    if (current === 'owner' && (await this.members.countOwners(m, tenantId)) <= 1) {
      this.logger.warn(`Clerk removed the last owner of tenant ${tenantId}; the membership is kept`);
      return { removed: false, afterCommit: [] };
    }
    return { removed: true, afterCommit: await this.removeLocked(m, tenantId, userId, current, scope) };
  }

  /** The removal itself, the tenant locked and the rules checked: hooks, delete, audit. */
  private async removeLocked(
    m: EntityManager,
    tenantId: string,
    userId: string,
    current: TenantRole,
    scope: AuditScope,
  ): Promise<AfterCommit[]> {
    const work = await this.hooks.memberRemoving({ uow: unitOfWorkOf(m), tenantId, userId, audit: scope });
    await this.members.delete(m, tenantId, userId);
    await this.audit.record(
      {
        action: 'member.removed',
        ...scope,
        tenantId,
        target: { type: 'user', id: userId },
        metadata: { role: current },
      },
      unitOfWorkOf(m),
    );
    return work;
  }

  /**
   * The role the change is judged with. A key's user must hold owner or admin in the tenant at this
   * moment (the tenant is locked, so a concurrent demotion is either before or after), and may not
   * touch their own membership through a key.
   */
  private async managerRole(
    m: EntityManager,
    tenantId: string,
    manager: MemberManager,
    targetUserId: string | null,
  ): Promise<MemberManagerRole> {
    if (typeof manager === 'string') return manager;
    if (manager.keyUserId === null) throw Errors.forbidden('This API key acts as no user: it cannot manage members');
    const role = await this.members.lockRole(m, tenantId, manager.keyUserId);
    if (role !== 'owner' && role !== 'admin') {
      throw Errors.forbidden("Managing members needs the key's user to be an owner or admin of the tenant");
    }
    if (targetUserId === manager.keyUserId) throw selfTouch();
    return role;
  }

  private async requireRole(m: EntityManager, tenantId: string, userId: string): Promise<TenantRole> {
    const role = await this.members.lockRole(m, tenantId, userId);
    if (!role) throw Errors.notFound('Member');
    return role;
  }

  /** Called before an owner is demoted or removed: there must be another owner. */
  /** The role change itself and its audit row, in the caller's transaction (tenant locked, rules checked). */
  private async writeRole(
    m: EntityManager,
    tenantId: string,
    userId: string,
    from: TenantRole,
    to: TenantRole,
    scope: AuditScope,
  ): Promise<void> {
    await this.members.setRole(m, tenantId, userId, to);
    await this.audit.record(
      {
        action: 'member.role_changed',
        ...scope,
        tenantId,
        target: { type: 'user', id: userId },
        metadata: { from, to },
      },
      unitOfWorkOf(m),
    );
  }

  private async keepAnOwner(m: EntityManager, tenantId: string): Promise<void> {
    if ((await this.members.countOwners(m, tenantId)) <= 1) {
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
