import { Injectable } from '@nestjs/common';
import { AppError, requireTenantId } from '#libs/common';
import { UsageGroup } from './usage-query.dto';
import { UsageReportDto, UsageRowDto, UsageTotalsDto } from './usage-report.response';
import { UsageRecorder } from './usage.recorder';
import {
  ceilTo,
  DAY_MS,
  floorTo,
  HOUR_MS,
  TimeRange,
  UsageLedgerState,
  UsageRollupRepository,
  type UsageSumsRow,
} from '#libs/usage';

const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 400;

/**
 * A tenant's gateway usage over a time range, grouped: whole days and hours from the rollups, what is left at the
 * window's edges from the ledger (see splitWindow). Time depends on the groups in the window, not the requests.
 */
@Injectable()
export class UsageQuery {
  constructor(
    private readonly rollups: UsageRollupRepository,
    private readonly recorder: UsageRecorder,
    private readonly ledger: UsageLedgerState,
  ) {}

  async report(
    tenantId: string,
    input: { from?: string; to?: string; group_by?: UsageGroup },
    now = new Date(),
  ): Promise<UsageReportDto> {
    requireTenantId(tenantId);
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
    const window = await this.readableWindow({ from, to });
    const { groups, totals } = await this.rollups.forTenant(tenantId).report(groupBy, window);
    return {
      data: groups.map(toRow),
      totals: toTotals(totals),
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      group_by: groupBy,
    };
  }

  /**
   * A partial hour before the point the ledger is complete from (retention removed it) is read whole from the
   * hour rollups: the bound moves out to the hour, and the report says so in its `from` / `to`.
   */
  private async readableWindow(window: TimeRange): Promise<TimeRange> {
    const onHour = (at: Date) => at.getTime() % HOUR_MS === 0;
    if (onHour(window.from) && onHour(window.to)) return window;
    const completeFrom = await this.ledger.completeFrom();
    if (!completeFrom) return window;
    const pruned = (at: Date) => at.getTime() < completeFrom.getTime();
    return {
      from: pruned(window.from) ? floorTo(window.from, HOUR_MS) : window.from,
      to: pruned(window.to) ? ceilTo(window.to, HOUR_MS) : window.to,
    };
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

function toTotals(r: Partial<UsageSumsRow> = {}): UsageTotalsDto {
  return {
    requests: Number(r.requests ?? 0),
    prompt_tokens: Number(r.prompt_tokens ?? 0),
    completion_tokens: Number(r.completion_tokens ?? 0),
    total_tokens: Number(r.total_tokens ?? 0),
    cost: roundCost(Number(r.cost ?? 0)),
  };
}

function toRow(r: UsageSumsRow): UsageRowDto {
  return { key: r.key, ...toTotals(r) };
}

/** Costs are tiny fractions of a dollar: keep 10 decimals, drop float noise. */
function roundCost(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}
