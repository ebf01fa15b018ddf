import type { FastifyReply } from 'fastify';
import type { UsageFormat } from '../usage-query.dto';
import type { UsageReportDto } from '../usage-report.response';
import { usageReportCsv, wantsCsv } from './usage-csv';

/** Answers a usage report as JSON, or as a CSV download when the caller asks for it (both routes share this). */
export function respondWithUsageReport(
  report: UsageReportDto,
  request: { format?: UsageFormat; accept?: string; tenantSlug: string },
  reply: FastifyReply,
): UsageReportDto | string {
  if (!wantsCsv(request.format, request.accept)) return report;
  const day = (iso: string) => iso.slice(0, 10);
  const slug = request.tenantSlug.replace(/[^a-z0-9-]/gi, '-');
  const filename = `usage-${slug}-${report.group_by}-${day(report.from)}-${day(report.to)}.csv`;
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${filename}"`);
  return usageReportCsv(report);
}
