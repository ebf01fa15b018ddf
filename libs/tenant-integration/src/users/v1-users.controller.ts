import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditScope, CurrentAuditScope } from '#libs/audit';
import { ApiKeyAuth, ContextTenant, ContextUser, CurrentTenant, CurrentUser } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { KeyManager, MemberDirectory, MembersService } from '#libs/tenants';
import { CreateUserDto } from './dto/create-user.dto';
import { IntegrationUserDto, IntegrationUserPageDto } from './dto/integration-user.response';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateUserDto } from './dto/update-user.dto';
import { toIntegrationUser } from './integration-user.mapper';

/**
 * The members of the key's tenant, for the tenant's own servers. Another tenant's user is a 404. A key
 * manages members as its user could signed in, judged at each request by MembersService: the user's
 * current role (owner or admin; only an owner touches the owner role), never their own membership.
 */
@ApiTags('tenant integration')
@ApiKeyAuth()
@Controller('v1/users')
export class V1UsersController {
  constructor(
    private readonly directory: MemberDirectory,
    private readonly members: MembersService,
  ) {}

  @Get()
  @RequireScopes('users:read')
  @ApiOperation({ summary: "Members of the key's tenant, in join order, a page at a time" })
  @ApiOkResponse({ type: IntegrationUserPageDto })
  async list(@CurrentTenant() tenant: ContextTenant, @Query() query: ListUsersQuery): Promise<IntegrationUserPageDto> {
    const page = await this.directory.page(tenant.id, query.limit ?? 20, query.cursor);
    return { data: page.members.map(toIntegrationUser), next_cursor: page.nextCursor };
  }

  @Get(':userId')
  @RequireScopes('users:read')
  @ApiOperation({ summary: "A member of the key's tenant" })
  @ApiOkResponse({ type: IntegrationUserDto })
  @ApiNotFoundResponse({ description: 'Not a member of this tenant' })
  async get(@CurrentTenant() tenant: ContextTenant, @Param('userId') userId: string): Promise<IntegrationUserDto> {
    return toIntegrationUser(await this.directory.get(tenant.id, userId));
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('users:write')
  @ApiOperation({ summary: 'Add a member by email (an unknown email becomes a pending user)' })
  @ApiCreatedResponse({ type: IntegrationUserDto })
  @ApiConflictResponse({ description: '`already_member`, `invitee_deactivated`' })
  async create(
    @CurrentTenant() tenant: ContextTenant,
    @CurrentUser() user: ContextUser | null,
    @Body() dto: CreateUserDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<IntegrationUserDto> {
    return toIntegrationUser(
      await this.members.add(tenant.id, keyManager(user), { email: dto.email, role: dto.role ?? 'member' }, scope),
    );
  }

  @Patch(':userId')
  @RequireScopes('users:write')
  @ApiOperation({ summary: "Change a member's role (admin or member)" })
  @ApiOkResponse({ type: IntegrationUserDto })
  async update(
    @CurrentTenant() tenant: ContextTenant,
    @CurrentUser() user: ContextUser | null,
    @Param('userId') userId: string,
    @Body() dto: UpdateUserDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<IntegrationUserDto> {
    const member = await this.directory.get(tenant.id, userId);
    return toIntegrationUser(
      await this.members.changeRole(tenant.id, keyManager(user), member.userId, dto.role, scope),
    );
  }

  @Delete(':userId')
  @HttpCode(204)
  @RequireScopes('users:write')
  @ApiOperation({ summary: 'Remove a member from the tenant (their API keys in it are revoked)' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: '`last_owner`' })
  async remove(
    @CurrentTenant() tenant: ContextTenant,
    @CurrentUser() user: ContextUser | null,
    @Param('userId') userId: string,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<void> {
    const member = await this.directory.get(tenant.id, userId);
    await this.members.remove(tenant.id, keyManager(user), member.userId, scope);
  }
}

/** The key acts as its user (the request context's user, null for a key acting as no one). */
function keyManager(user: ContextUser | null): KeyManager {
  return { keyUserId: user?.id ?? null };
}
