import type { UsageFormat } from '../usage-query.dto';
import type { UsageReportDto } from '../usage-report.response';

const NUMBER_COLUMNS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost'] as const;

/**
 * The report as CSV (RFC 4180, CRLF line ends): a header row (the group's name, then the numbers), then one row
 * per group. Cost is written in plain decimals (never `1e-7`).
 */
export function usageReportCsv(report: UsageReportDto): string {
  const lines = [[report.group_by, ...NUMBER_COLUMNS].join(',')];
  for (const row of report.data) {
    lines.push(
      [
        csvText(row.key),
        row.requests,
        row.prompt_tokens,
        row.completion_tokens,
        row.total_tokens,
        decimal(row.cost),
      ].join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * A text cell: quoted when it holds a comma, quote or line break (quotes doubled). A model name is the caller's
 * own string: one that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`.
 */
export function csvText(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function decimal(value: number): string {
  return value
    .toFixed(10)
    .replace(/\.?0+$/, '')
    .replace(/^-0$/, '0');
}

/**
 * CSV when `format=csv`, or without `format` when `Accept` ranks text/csv at least as high as JSON; otherwise JSON.
 */
export function wantsCsv(format: UsageFormat | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  if (!accept) return false;
  const quality = (type: string): number => {
    let best = -1;
    for (const range of accept.split(',')) {
      const [media, ...params] = range.trim().toLowerCase().split(';');
      if (media.trim() !== type) continue;
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      best = Math.max(best, q ? Number(q.slice(2)) || 0 : 1);
    }
    return best;
  };
  const csv = quality('text/csv');
  return csv > 0 && csv >= quality('application/json');
}
