import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth, CurrentTenant, ContextTenant } from '#libs/common';
import { RequireScopes } from '#libs/api-keys';
import { UsageQueryDto } from './usage-query.dto';
import { UsageReportDto } from './usage-report.response';
import { UsageQuery } from './usage.query';

@ApiTags('tenant integration')
@ApiKeyAuth()
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageQuery) {}

  @Get()
  @RequireScopes('usage:read')
  @ApiOperation({ summary: "Gateway usage of the key's tenant, grouped by day, API key, user or model" })
  @ApiOkResponse({ type: UsageReportDto })
  report(@CurrentTenant() tenant: ContextTenant, @Query() query: UsageQueryDto): Promise<UsageReportDto> {
    return this.usage.report(tenant.id, query);
  }
}
