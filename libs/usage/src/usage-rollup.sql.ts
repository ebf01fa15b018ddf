/**
 * The one definition of how ledger rows become rollup rows, used by the recorder (each written batch) and by
 * the rebuild (a window of the ledger): per tenant, API key, user, model and UTC bucket, for each granularity.
 */

export const ROLLUP_GRANULARITIES = ['hour', 'day'] as const;
export type RollupGranularity = (typeof ROLLUP_GRANULARITIES)[number];

const COLUMNS = `tenant_id, granularity, bucket_start, api_key_id, user_id, model,
  requests, prompt_tokens, completion_tokens, total_tokens, cost`;
const CONFLICT_TARGET = `(tenant_id, granularity, bucket_start, api_key_id, user_id, model)`;

/**
 * `SELECT` of rollup rows summed from `source` (ledger rows: a table, a CTE, filtered by `where`), in the order of
 * the unique index: writers that lock rollup rows in one order cannot deadlock each other.
 */
function bucketsOf(source: string, where = 'true'): string {
  return `SELECT r.tenant_id, g.granularity, date_trunc(g.granularity, r.created_at, 'UTC') AS bucket_start,
          r.api_key_id, r.user_id, r.model, count(*), sum(r.prompt_tokens), sum(r.completion_tokens),
          sum(r.total_tokens), coalesce(sum(r.cost), 0)
     FROM ${source} r CROSS JOIN (VALUES ('hour'), ('day')) AS g (granularity)
    WHERE ${where}
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6`;
}

/** Adds the rows of `source` to the rollups (the recorder's batch: counted once, in its statement). */
export function addToRollupsSql(source: string): string {
  return `INSERT INTO usage_rollups (${COLUMNS})
  ${bucketsOf(source)}
  ON CONFLICT ${CONFLICT_TARGET} DO UPDATE SET
    requests = usage_rollups.requests + excluded.requests,
    prompt_tokens = usage_rollups.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = usage_rollups.completion_tokens + excluded.completion_tokens,
    total_tokens = usage_rollups.total_tokens + excluded.total_tokens,
    cost = usage_rollups.cost + excluded.cost`;
}

/**
 * Writes the rollups of the ledger rows created in [$1, $2), replacing what is there (the rebuild, after deleting
 * the window's rollups; `excluded` wins should a row be there anyway).
 */
export const REPLACE_ROLLUPS_FROM_LEDGER_SQL = `INSERT INTO usage_rollups (${COLUMNS})
  ${bucketsOf('usage_records', 'r.created_at >= $1 AND r.created_at < $2')}
  ON CONFLICT ${CONFLICT_TARGET} DO UPDATE SET
    requests = excluded.requests,
    prompt_tokens = excluded.prompt_tokens,
    completion_tokens = excluded.completion_tokens,
    total_tokens = excluded.total_tokens,
    cost = excluded.cost`;
