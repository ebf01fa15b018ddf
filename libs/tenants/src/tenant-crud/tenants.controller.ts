import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ClerkAuth, ContextUser, CurrentUser, Errors } from '#libs/common';
import { AuditScope, CurrentAuditScope } from '../access/audit-scope';
import { PathTenant, PathTenantAccess, TenantRoles } from '../access/tenant-access.guard';
import { MembershipQueries } from '../membership.queries';
import { CreateTenantDto } from './dto/create-tenant.dto';
import { TenantDetailResponseDto, TenantResponseDto } from './dto/tenant.response';
import { UpdateTenantDto } from './dto/update-tenant.dto';
import { TenantCommands } from './tenant-commands.service';
import { TenantBudgets } from './tenant-budget.service';
import { toTenantDetailResponse, toTenantResponse } from './tenant.mapper';

@ApiTags('tenants')
@ClerkAuth()
@Controller('tenants')
export class TenantsController {
  constructor(
    private readonly commands: TenantCommands,
    private readonly memberships: MembershipQueries,
    private readonly budgets: TenantBudgets,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's tenants with their role in each" })
  @ApiOkResponse({ type: [TenantResponseDto] })
  async list(@CurrentUser() user: ContextUser): Promise<TenantResponseDto[]> {
    const tenants = await this.memberships.tenantsOf(user.id);
    return tenants.map((t) => toTenantResponse(t, t.role));
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant; the caller becomes its owner' })
  @ApiCreatedResponse({ type: TenantResponseDto })
  @ApiConflictResponse({ description: '`slug_taken`' })
  async create(
    @CurrentUser() user: ContextUser,
    @Body() dto: CreateTenantDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<TenantResponseDto> {
    const tenant = await this.commands.create(user.id, { name: dto.name, slug: dto.slug }, scope);
    return toTenantResponse(tenant, 'owner');
  }

  @Get(':tenantId')
  @TenantRoles()
  @ApiOperation({ summary: 'A tenant the caller belongs to, with its budget and what its keys spent' })
  @ApiOkResponse({ type: TenantDetailResponseDto })
  async get(@PathTenant() tenant: PathTenantAccess): Promise<TenantDetailResponseDto> {
    return toTenantDetailResponse(tenant, tenant.role, await this.budgets.view(tenant.id));
  }

  @Patch(':tenantId')
  @TenantRoles('owner', 'admin')
  @ApiOperation({ summary: 'Rename a tenant (owner, admin) or set its budget over all its keys (owner)' })
  @ApiOkResponse({ type: TenantDetailResponseDto })
  async update(
    @PathTenant() tenant: PathTenantAccess,
    @Body() dto: UpdateTenantDto,
    @CurrentAuditScope() scope: AuditScope,
  ): Promise<TenantDetailResponseDto> {
    const budgetChange = dto.budget_usd !== undefined || dto.budget_period !== undefined;
    if (budgetChange && tenant.role !== 'owner') throw Errors.forbidden("Only an owner sets the tenant's budget");
    const renamed = dto.name !== undefined ? await this.commands.rename(tenant.id, dto.name, scope) : tenant;
    if (budgetChange)
      await this.budgets.change(tenant.id, { budgetUsd: dto.budget_usd, budgetPeriod: dto.budget_period }, scope);
    return toTenantDetailResponse(renamed, tenant.role, await this.budgets.view(tenant.id));
  }

  @Delete(':tenantId')
  @HttpCode(204)
  @TenantRoles('owner')
  @ApiOperation({ summary: 'Delete a tenant (owner); its API keys are revoked at once on every instance' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: '`personal_tenant`: a personal tenant cannot be deleted' })
  async remove(@PathTenant() tenant: PathTenantAccess, @CurrentAuditScope() scope: AuditScope): Promise<void> {
    await this.commands.delete(tenant.id, scope);
  }
}
