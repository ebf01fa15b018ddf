import { Injectable } from '@nestjs/common';
import { Errors, isUuid } from '#libs/common';
import { MemberCursor } from './member-cursor';
import { MembershipRepository, MemberRow } from './membership.repository';

export interface MemberPage {
  members: MemberRow[];
  nextCursor: string | null;
}

/** Read side of memberships: lists, pages and single members, of one tenant only. */
@Injectable()
export class MemberDirectory {
  constructor(private readonly memberships: MembershipRepository) {}

  list(tenantId: string): Promise<MemberRow[]> {
    return this.memberships.forTenant(tenantId).list();
  }

  /** A member of the tenant, or 404 (also for a user of another tenant, or a malformed id). */
  async get(tenantId: string, userId: string): Promise<MemberRow> {
    const member = isUuid(userId) ? await this.memberships.forTenant(tenantId).find(userId) : null;
    if (!member) throw Errors.notFound('Member');
    return member;
  }

  /** One page in join order; `nextCursor` is null on the last page. */
  async page(tenantId: string, limit: number, cursor?: string): Promise<MemberPage> {
    const after = cursor ? MemberCursor.decode(cursor) : null;
    const rows = await this.memberships.forTenant(tenantId).page(after, limit + 1);
    const members = rows.slice(0, limit);
    const last = members.at(-1);
    return { members, nextCursor: rows.length > limit && last ? MemberCursor.encode(last) : null };
  }
}
