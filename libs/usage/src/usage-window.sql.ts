import { rollupRanges, splitWindow, TimeRange } from './usage-window';

/** What each piece selects and filters on, for the rollups and for the ledger (fixed SQL, never input). */
export interface WindowSelect {
  rollup: { columns: string; where: string };
  ledger: { columns: string; where: string };
}

/**
 * The window as a UNION ALL of pieces, each a range scan: day and hour rollups for the whole days and hours, the
 * ledger for the partial hours at the edges. `params` gets the ranges' bounds appended.
 */
export function windowPiecesSql(window: TimeRange, select: WindowSelect, params: unknown[]): string {
  const parts = splitWindow(window);
  const range = (r: TimeRange) => {
    params.push(r.from.toISOString(), r.to.toISOString());
    return [`$${params.length - 1}`, `$${params.length}`];
  };
  const pieces: string[] = [];
  for (const { granularity, range: r } of rollupRanges(parts)) {
    const [a, b] = range(r);
    pieces.push(`SELECT ${select.rollup.columns} FROM usage_rollups
      WHERE ${select.rollup.where} AND granularity = '${granularity}' AND bucket_start >= ${a} AND bucket_start < ${b}`);
  }
  for (const r of parts.ledger) {
    const [a, b] = range(r);
    pieces.push(`SELECT ${select.ledger.columns} FROM usage_records
      WHERE ${select.ledger.where} AND created_at >= ${a} AND created_at < ${b}`);
  }
  return pieces.join('\n UNION ALL ');
}

const SUMMED = {
  rollup: 'requests, prompt_tokens, completion_tokens, total_tokens, cost',
  ledger: `1::bigint AS requests, prompt_tokens::bigint, completion_tokens::bigint, total_tokens::bigint,
    coalesce(cost, 0) AS cost`,
};

/** Per-piece columns of a report grouped by `keySql` (over the rollups / the ledger) and scoped by `where`. */
export function reportSelect(key: { rollup: string; ledger: string }, where: string): WindowSelect {
  return {
    rollup: { columns: `${key.rollup} AS key, ${SUMMED.rollup}`, where },
    ledger: { columns: `${key.ledger} AS key, ${SUMMED.ledger}`, where },
  };
}

/** Requests and cost of every tenant over a window (admin stats), exact as the report is. */
export function platformSpendSql(window: TimeRange): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const pieces = windowPiecesSql(
    window,
    {
      rollup: { columns: 'requests, cost', where: 'true' },
      ledger: { columns: '1::bigint AS requests, coalesce(cost, 0) AS cost', where: 'true' },
    },
    params,
  );
  return {
    sql: `SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(cost), 0) AS cost FROM (${pieces}) parts`,
    params,
  };
}
