import { AppError, isUuid } from '#libs/common';
import type { MemberPosition } from './membership.repository';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Opaque page cursors: the position of the last member returned (join time, membership id). */
export const MemberCursor = {
  encode(p: MemberPosition): string {
    return Buffer.from(JSON.stringify([p.joinedKey, p.membershipId])).toString('base64url');
  },

  decode(cursor: string): MemberPosition {
    try {
      const [joinedKey, membershipId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
      if (typeof joinedKey === 'string' && TIMESTAMP.test(joinedKey) && isUuid(membershipId))
        return { joinedKey, membershipId };
    } catch {
      // fall through
    }
    throw new AppError('invalid_cursor', 'The cursor is not one this API returned', { fields: ['cursor'] });
  },
};
