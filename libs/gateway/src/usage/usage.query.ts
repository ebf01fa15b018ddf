import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '#libs/common';
import { UsageGroup } from './usage-query.dto';
import { UsageReportDto, UsageRowDto, UsageTotalsDto } from './usage-report.response';
import { UsageRecorder } from './usage.recorder';

const DAY_MS = 86_400_000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 400;

/** Fixed SQL per grouping: never built from input. */
const GROUP_EXPRESSIONS: Record<UsageGroup, string> = {
  day: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  api_key: `api_key_id::text`,
  user: `user_id::text`,
  model: `model`,
};

interface Row {
  key: string | null;
  requests: string;
  prompt_tokens: string;
  completion_tokens: string;
  total_tokens: string;
  cost: string | null;
}

/** A tenant's gateway usage over a time range, grouped. */
@Injectable()
export class UsageQuery {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly recorder: UsageRecorder,
  ) {}

  async report(
    tenantId: string,
    input: { from?: string; to?: string; group_by?: UsageGroup },
    now = new Date(),
  ): Promise<UsageReportDto> {
    if (!tenantId) throw new Error('UsageQuery.report needs a tenant id');
    const groupBy = input.group_by ?? 'day';
    const to = input.to ? parseBound(input.to, 'to') : now;
    const from = input.from ? parseBound(input.from, 'from') : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
    if (from.getTime() >= to.getTime())
      throw new AppError('invalid_range', '`from` must be before `to`', { fields: ['from', 'to'] });
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw new AppError('range_too_large', `The range may span at most ${MAX_RANGE_DAYS} days`, {
        fields: ['from', 'to'],
      });
    }

    // Requests this process finished a moment ago are counted.
    await this.recorder.drain();
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${GROUP_EXPRESSIONS[groupBy]} AS key, count(*) AS requests,
              coalesce(sum(prompt_tokens), 0) AS prompt_tokens, coalesce(sum(completion_tokens), 0) AS completion_tokens,
              coalesce(sum(total_tokens), 0) AS total_tokens, coalesce(sum(cost), 0) AS cost
         FROM usage_records
        WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
        GROUP BY 1 ORDER BY 1 NULLS LAST`,
      [tenantId, from.toISOString(), to.toISOString()],
    );
    const data = rows.map(toRow);
    return { data, totals: sum(data), from: from.toISOString(), to: to.toISOString(), group_by: groupBy };
  }
}

/** A bare date as `to` means "through that day": the bound is the next midnight (UTC). */
function parseBound(value: string, name: 'from' | 'to'): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at.getTime()))
    throw new AppError('validation_failed', `${name} is not a valid date`, { fields: [name] });
  return dateOnly && name === 'to' ? new Date(at.getTime() + DAY_MS) : at;
}

function toRow(r: Row): UsageRowDto {
  return {
    key: r.key,
    requests: Number(r.requests),
    prompt_tokens: Number(r.prompt_tokens),
    completion_tokens: Number(r.completion_tokens),
    total_tokens: Number(r.total_tokens),
    cost: roundCost(Number(r.cost ?? 0)),
  };
}

function sum(rows: UsageRowDto[]): UsageTotalsDto {
  const totals: UsageTotalsDto = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 };
  for (const r of rows) {
    totals.requests += r.requests;
    totals.prompt_tokens += r.prompt_tokens;
    totals.completion_tokens += r.completion_tokens;
    totals.total_tokens += r.total_tokens;
    totals.cost += r.cost;
  }
  totals.cost = roundCost(totals.cost);
  return totals;
}

/** Costs are tiny fractions of a dollar: keep 10 decimals, drop float noise. */
function roundCost(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}
