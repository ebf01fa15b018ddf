import { DAY_MS, floorTo, splitWindow, TimeRange, type WindowSource } from './usage-window';

/**
 * A window's pieces, filtered by `where`, grouped by `key`: fixed SQL over each source (the day rollups, the hour
 * rollups, the ledger; never input), or `'day'` for the UTC day, which a piece finer than a day takes as a
 * parameter (each lies within one day: nothing to compute per row).
 */
export interface WindowSelect {
  key?: Record<WindowSource, string> | 'day';
  where: string;
}

/** The summed columns of a piece, signed: the rollups' sums, or a ledger row's own values. */
const MEASURES = {
  rollup: (minus: string) =>
    `${minus}requests AS requests, ${minus}prompt_tokens AS prompt_tokens, ${minus}completion_tokens AS completion_tokens,
    ${minus}total_tokens AS total_tokens, ${minus}cost AS cost`,
  ledger: (minus: string) =>
    `${minus}1::bigint AS requests, ${minus}prompt_tokens::bigint AS prompt_tokens,
    ${minus}completion_tokens::bigint AS completion_tokens, ${minus}total_tokens::bigint AS total_tokens,
    ${minus}coalesce(cost, 0) AS cost`,
};

/**
 * The window as a UNION ALL of pieces (see splitWindow), each a range scan: day and hour rollups, ledger rows, each
 * added or subtracted. Groups a subtraction empties come out with zero requests: callers drop them (HAVING).
 * `params` gets the ranges' bounds appended.
 */
export function windowPiecesSql(window: TimeRange, select: WindowSelect, params: unknown[]): string {
  const range = (r: TimeRange) => {
    params.push(r.from.toISOString(), r.to.toISOString());
    return [`$${params.length - 1}`, `$${params.length}`];
  };
  return splitWindow(window)
    .map(({ source, range: r, sign }) => {
      const [a, b] = range(r);
      const minus = sign < 0 ? '-' : '';
      const key = keySql(select.key, source, r, params);
      if (source === 'ledger') {
        return `SELECT ${key}${MEASURES.ledger(minus)} FROM usage_records
      WHERE ${select.where} AND created_at >= ${a} AND created_at < ${b}`;
      }
      return `SELECT ${key}${MEASURES.rollup(minus)} FROM usage_rollups
      WHERE ${select.where} AND granularity = '${source}' AND bucket_start >= ${a} AND bucket_start < ${b}`;
    })
    .join('\n UNION ALL ');
}

function keySql(key: WindowSelect['key'], source: WindowSource, range: TimeRange, params: unknown[]): string {
  if (!key) return '';
  if (key !== 'day') return `${key[source]} AS key, `;
  if (source === 'day') return 'bucket_start AS key, ';
  params.push(floorTo(range.from, DAY_MS).toISOString());
  return `$${params.length}::timestamptz AS key, `;
}

/** Requests and cost of every tenant over a window (admin stats), exact as the report is. */
export function platformSpendSql(window: TimeRange): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const pieces = windowPiecesSql(window, { where: 'true' }, params);
  return {
    sql: `SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(cost), 0) AS cost FROM (${pieces}) parts`,
    params,
  };
}
