import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AppError, ClerkAuth, Errors, isUuid } from '#libs/common';
import { AuditScope, CurrentAuditScope } from '../access/audit-scope';
import { PathTenant, PathTenantAccess, TenantRoles } from '../access/tenant-access.guard';
import { AddMemberDto } from './dto/add-member.dto';
import { MemberResponseDto } from './dto/member.response';
import { UpdateMemberDto } from './dto/update-member.dto';
import { MemberDirectory } from './member-directory';
import { toMemberResponse } from './member.mapper';
import { MemberManagerRole, MembersService, NewMember } from './members.service';

@ApiTags('tenants')
@ClerkAuth()
@Controller('tenants/:tenantId/members')
export class MembersController {
  constructor(
    private readonly members: MembersService,
    private readonly directory: MemberDirectory,
  ) {}

  @Get()
  @TenantRoles()
  @ApiOperation({ summary: 'Members of the tenant (any member)' })
  @ApiOkResponse({ type: [MemberResponseDto] })
  async list(@PathTenant() tenant: PathTenantAccess): Promise<MemberResponseDto[]> {
    return (await this.directory.list(tenant.id)).map(toMemberResponse);
  }

  @Post()
  @HttpCode(201)
  @TenantRoles('owner', 'admin')
  @ApiOperation({ summary: 'Add a member by email or user id (owner, admin); an unknown email becomes a pending user' })
  @ApiCreatedResponse({ type: MemberResponseDto })
  @ApiConflictResponse({ description: '`already_member`, `invitee_deactivated`' })
  async add(
    @PathTenant() tenant: PathTenantAccess,
    @Body() dto: AddMemberDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<MemberResponseDto> {
    return toMemberResponse(await this.members.add(tenant.id, managerRole(tenant), newMember(dto), scope));
  }

  @Patch(':userId')
  @TenantRoles('owner', 'admin')
  @ApiOperation({ summary: "Change a member's role (owner, admin; only owners touch the owner role)" })
  @ApiOkResponse({ type: MemberResponseDto })
  @ApiConflictResponse({ description: '`last_owner`' })
  async update(
    @PathTenant() tenant: PathTenantAccess,
    @Param('userId') userId: string,
    @Body() dto: UpdateMemberDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<MemberResponseDto> {
    return toMemberResponse(
      await this.members.changeRole(tenant.id, managerRole(tenant), memberId(userId), dto.role, scope),
    );
  }

  @Delete(':userId')
  @HttpCode(204)
  @TenantRoles('owner', 'admin')
  @ApiOperation({ summary: "Remove a member (owner, admin); the member's API keys in the tenant are revoked" })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: '`last_owner`' })
  async remove(
    @PathTenant() tenant: PathTenantAccess,
    @Param('userId') userId: string,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<void> {
    await this.members.remove(tenant.id, managerRole(tenant), memberId(userId), scope);
  }
}

function managerRole(tenant: PathTenantAccess): MemberManagerRole {
  return tenant.role === 'owner' ? 'owner' : 'admin';
}

function memberId(userId: string): string {
  if (!isUuid(userId)) throw Errors.notFound('Member');
  return userId;
}

/** Exactly one of email and user_id. */
export function newMember(dto: { email?: string; user_id?: string; role?: MemberManagerRole | 'member' }): NewMember {
  const role = dto.role ?? 'member';
  if (dto.email !== undefined && dto.user_id !== undefined) {
    throw new AppError('validation_failed', 'Give either email or user_id, not both', {
      fields: ['email', 'user_id'],
    });
  }
  return dto.user_id !== undefined ? { userId: dto.user_id, role } : { email: dto.email!, role };
}
