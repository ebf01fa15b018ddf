import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyAuth, CurrentTenant, ContextTenant } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { UsageQueryDto } from './usage-query.dto';
import { UsageReportDto } from './usage-report.response';
import { UsageQuery } from './usage.query';
import { respondWithUsageReport } from './report/usage-report.responder';

@ApiTags('tenant integration')
@ApiKeyAuth()
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageQuery) {}

  @Get()
  @RequireScopes('usage:read')
  @ApiOperation({
    summary: "Gateway usage of the key's tenant, grouped by day, API key, user or model (JSON, or CSV on request)",
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageReportDto })
  async report(
    @CurrentTenant() tenant: ContextTenant,
    @Query() query: UsageQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageReportDto | string> {
    const report = await this.usage.report(tenant.id, query);
    return respondWithUsageReport(report, { format: query.format, accept, tenantSlug: tenant.slug }, reply);
  }
}
