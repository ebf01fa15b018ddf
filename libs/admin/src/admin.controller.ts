import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminListAuditEventsQuery, AuditEventPageDto, AuditQueries } from '#libs/audit-read';
import { AppError, CurrentContext, Errors, isUuid, PlatformAdmin, RequestContext } from '#libs/common';
import { OpenRouterError } from '#libs/openrouter';
import { OpenRouterReconciler, ReconcileReport, ReconciliationBusyError } from '#libs/reconciliation';
import { AdminDirectory } from './admin-directory.service';
import { AdminKeyRefresh } from './admin-key-refresh.service';
import { AdminUserBudgets } from './admin-user-budget.service';
import { AdminTenantPageDto } from './dto/admin-tenant.response';
import { AdminUserDto, AdminUserPageDto } from './dto/admin-user.response';
import { AdminPageQuery, AdminUsersQuery, ReconcileRequestDto } from './dto/admin.query';
import { PlatformStatsDto } from './dto/stats.response';
import { AdminUserBudgetResponseDto, UpdateAdminUserDto } from './dto/update-admin-user.dto';
import { PlatformStats } from './platform-stats.service';

/** Platform administration, for the Clerk users listed in PLATFORM_ADMIN_USER_IDS (others: 403). */
@ApiTags('admin')
@PlatformAdmin()
@ApiForbiddenResponse({ description: 'Not a platform administrator' })
@Controller('admin')
export class AdminController {
  constructor(
    private readonly directory: AdminDirectory,
    private readonly stats: PlatformStats,
    private readonly audit: AuditQueries,
    private readonly refresher: AdminKeyRefresh,
    private readonly reconciler: OpenRouterReconciler,
    private readonly userBudgets: AdminUserBudgets,
  ) {}

  @Get('tenants')
  @ApiOperation({ summary: 'Every tenant, newest first, with member and active API key counts' })
  @ApiOkResponse({ type: AdminTenantPageDto })
  tenants(@Query() query: AdminPageQuery): Promise<AdminTenantPageDto> {
    return this.directory.tenants(query);
  }

  @Get('users')
  @ApiOperation({
    summary: 'Users, newest first, or the user with `email`; with tenants and OpenRouter key state (never the key)',
  })
  @ApiOkResponse({ type: AdminUserPageDto })
  users(@Query() query: AdminUsersQuery): Promise<AdminUserPageDto> {
    return this.directory.users(query);
  }

  @Get('audit-events')
  @ApiOperation({ summary: 'The audit trail, newest first; `tenant_id` narrows it to one tenant' })
  @ApiOkResponse({ type: AuditEventPageDto })
  auditEvents(@Query() query: AdminListAuditEventsQuery): Promise<AuditEventPageDto> {
    const { tenant_id, ...page } = query;
    return this.audit.all(tenant_id, page);
  }

  @Get('stats')
  @ApiOperation({
    summary: 'Counts of users, tenants, keys, and renewals and provisioning failures in the last 24 hours',
  })
  @ApiOkResponse({ type: PlatformStatsDto })
  platformStats(): Promise<PlatformStatsDto> {
    return this.stats.collect();
  }

  @Post('users/:userId/openrouter-api-key/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: "Replace a user's OpenRouter key (new key stored first, old one deleted upstream)" })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiConflictResponse({ description: 'The user is deactivated or has not signed in yet (`user_not_active`)' })
  refresh(@CurrentContext() ctx: RequestContext, @Param('userId') userId: string): Promise<AdminUserDto> {
    if (!isUuid(userId)) throw Errors.notFound('User');
    return this.refresher.refresh(userId, { type: 'user', id: ctx.user?.id ?? null });
  }

  @Patch('users/:userId')
  @ApiOperation({
    summary: 'Give a user another OpenRouter budget (USD per period; null: the default), applied upstream at once',
    description:
      "The current key's limit becomes what is left of the new budget in the period. 502 `openrouter_unavailable` " +
      'when OpenRouter cannot apply it (nothing changes then). Audited as `user.budget_changed`.',
  })
  @ApiOkResponse({ type: AdminUserBudgetResponseDto })
  updateUser(
    @CurrentContext() ctx: RequestContext,
    @Param('userId') userId: string,
    @Body() body: UpdateAdminUserDto,
  ): Promise<AdminUserBudgetResponseDto> {
    if (!isUuid(userId)) throw Errors.notFound('User');
    return this.userBudgets.set(userId, body.openrouter_budget_usd, { type: 'user', id: ctx.user?.id ?? null });
  }

  @Post('openrouter/reconcile')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete upstream keys this service created and no user references (runs on a schedule too)',
    description:
      'Retries queued deletions, then pages through OpenRouter GET /keys. `dry_run` only lists the orphans. 409 `reconciliation_running` while another run holds the lease.',
  })
  @ApiOkResponse({ description: 'The run report: counts and the orphaned keys (hash, name, label)' })
  async reconcile(@CurrentContext() ctx: RequestContext, @Body() body: ReconcileRequestDto): Promise<ReconcileReport> {
    if (!this.reconciler.configured)
      throw new AppError('openrouter_not_configured', 'OpenRouter provisioning is not configured');
    try {
      return await this.reconciler.run({
        dryRun: body.dry_run ?? false,
        graceMs: body.grace_seconds === undefined ? undefined : body.grace_seconds * 1000,
        actor: { type: 'user', id: ctx.user?.id ?? null },
        retryAllQueued: true,
      });
    } catch (err) {
      if (err instanceof ReconciliationBusyError) throw new AppError('reconciliation_running', err.message);
      if (err instanceof OpenRouterError)
        throw new AppError('openrouter_unavailable', `OpenRouter failed during reconciliation (${err.code})`);
      throw err;
    }
  }
}
