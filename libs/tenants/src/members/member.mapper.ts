import type { MemberResponseDto } from './dto/member.response';
import type { MemberRow } from './membership.repository';

export function toMemberResponse(m: MemberRow): MemberResponseDto {
  return {
    user_id: m.userId,
    email: m.email,
    role: m.role,
    joined_at: new Date(m.joinedAt).toISOString(),
    status: m.status,
  };
}
