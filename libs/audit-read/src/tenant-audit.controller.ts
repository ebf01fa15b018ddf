import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClerkAuth, CurrentContext, Errors, RequestContext } from '#libs/common';
import { MembershipQueries } from '#libs/tenants';
import { AuditEventPageDto } from './audit-event.response';
import { AuditQueries } from './audit-queries.service';
import { ListAuditEventsQuery } from './list-audit-events.query';

/** A tenant's own audit trail, for its owners and admins. */
@ApiTags('audit')
@ClerkAuth()
@Controller('tenants/:tenantId/audit-events')
export class TenantAuditController {
  constructor(
    private readonly audit: AuditQueries,
    private readonly memberships: MembershipQueries,
  ) {}

  @Get()
  @ApiOperation({ summary: "The tenant's audit events, newest first (owners and admins)" })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiForbiddenResponse({ description: 'A member without the owner or admin role' })
  @ApiNotFoundResponse({ description: 'Not a member of this tenant' })
  async list(
    @CurrentContext() ctx: RequestContext,
    @Param('tenantId') tenantId: string,
    @Query() query: ListAuditEventsQuery,
  ): Promise<AuditEventPageDto> {
    const membership = ctx.user ? await this.memberships.byIdOrSlug(ctx.user.id, tenantId) : null;
    if (!membership) throw Errors.notFound('Tenant');
    if (membership.role !== 'owner' && membership.role !== 'admin') {
      throw Errors.forbidden("Only the tenant's owners and admins can read its audit trail");
    }
    return this.audit.forTenant(membership.id, query);
  }
}
