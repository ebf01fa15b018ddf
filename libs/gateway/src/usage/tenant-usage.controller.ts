import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ClerkAuth } from '#libs/common';
import { PathTenant, PathTenantAccess, TenantRoles } from '#libs/tenants';
import { UsageQueryDto } from './usage-query.dto';
import { UsageReportDto } from './usage-report.response';
import { UsageQuery } from './usage.query';
import { respondWithUsageReport } from './report/usage-report.responder';

/** The usage report of GET /api/v1/usage, for a tenant's owners and admins signed in with Clerk. */
@ApiTags('tenants')
@ClerkAuth()
@TenantRoles('owner', 'admin')
@Controller('tenants/:tenantId/usage')
export class TenantUsageController {
  constructor(private readonly usage: UsageQuery) {}

  @Get()
  @ApiOperation({
    summary: "The tenant's gateway usage, grouped by day, API key, user or model (JSON, or CSV on request)",
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageReportDto })
  async report(
    @PathTenant() tenant: PathTenantAccess,
    @Query() query: UsageQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageReportDto | string> {
    const report = await this.usage.report(tenant.id, query);
    return respondWithUsageReport(report, { format: query.format, accept, tenantSlug: tenant.slug }, reply);
  }
}
