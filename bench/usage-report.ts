/**
 * `npm run bench:report`: the usage report's time against the size of the ledger. One tenant's ledger is filled
 * with N records over 30 days (generate_series, in SQL), the rollups are rebuilt from it (as usage:rebuild does),
 * and GET /api/v1/usage's query is timed for every group_by over the 30 days (median of --runs), beside the
 * ledger's own aggregate (what the report read before rollups; timed once). On the embedded database and on
 * PostgreSQL (when it answers). The embedded database runs in this process, so its report's CPU time (median) is
 * shown too: on a loaded machine it says what the query costs better than the elapsed time does. A benchmark, not
 * a test: figures only. See docs/performance.md.
 *
 * Options (flag or environment variable):
 *   --rows=1000000         BENCH_REPORT_ROWS       ledger sizes, comma-separated (each on a fresh database)
 *   --runs=5               BENCH_REPORT_RUNS       timed runs per report (after a warm-up); the median is shown
 *   --databases=auto       BENCH_DATABASES         embedded,postgres (auto: embedded, plus postgres when it answers)
 *   --database-url=…       BENCH_DATABASE_URL      (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   --keys=50 --users=20 --models=10               the tenant's API keys, users and models (every combination occurs)
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataSource } from 'typeorm';
import { dataSourceOptions, openDatabaseEndpoint, Transactions } from '#libs/database';
import { UsageQuery, UsageRecorder, UsageRecordRepository, type UsageGroup } from '#libs/gateway';
import { UsageLedgerState, UsageLedgerStateRepository, UsageRollupRebuilder, UsageRollupRepository } from '#libs/usage';
import { createTestDatabase } from '../test/support/app';
import { DEFAULT_POSTGRES_URL, option, postgresAnswers } from './support/services';

const GROUPS: UsageGroup[] = ['day', 'api_key', 'user', 'model'];
const DAY_MS = 86_400_000;
/** generate_series rows per INSERT: big enough to be fast, small enough for the embedded database's memory. */
const FILL_CHUNK = 250_000;

const LEDGER_KEY: Record<UsageGroup, string> = {
  day: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  api_key: 'api_key_id::text',
  user: 'user_id::text',
  model: 'model',
};

interface Shape {
  keys: number;
  users: number;
  models: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rowsList = option(args, 'rows', 'BENCH_REPORT_ROWS', '1000000').split(',').map(Number);
  const runs = Number(option(args, 'runs', 'BENCH_REPORT_RUNS', '5'));
  const shape: Shape = {
    keys: Number(option(args, 'keys', 'BENCH_REPORT_KEYS', '50')),
    users: Number(option(args, 'users', 'BENCH_REPORT_USERS', '20')),
    models: Number(option(args, 'models', 'BENCH_REPORT_MODELS', '10')),
  };
  const pgUrl = option(
    args,
    'database-url',
    'BENCH_DATABASE_URL',
    process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL,
  );
  const asked = option(args, 'databases', 'BENCH_DATABASES', 'auto');
  const databases =
    asked === 'auto' ? ['embedded', ...((await postgresAnswers(pgUrl)) ? ['postgres'] : [])] : asked.split(',');

  console.log(
    `usage report, 30 days, one tenant with ${shape.keys} keys, ${shape.users} users, ${shape.models} models; median of ${runs}`,
  );
  for (const kind of databases) {
    for (const rows of rowsList) await benchOne(kind, rows, shape, pgUrl, runs);
  }
}

async function benchOne(kind: string, rows: number, shape: Shape, pgUrl: string, runs: number): Promise<void> {
  if (kind === 'postgres') process.env.TEST_DATABASE_URL = pgUrl;
  else delete process.env.TEST_DATABASE_URL;
  const database = await createTestDatabase();
  const endpoint = await openDatabaseEndpoint({
    databaseUrl: database.env.DATABASE_URL,
    dataDir: database.env.DATA_DIR ?? '',
    poolSize: 4,
  });
  const db = await new DataSource({ ...dataSourceOptions(endpoint), logging: false }).initialize();
  try {
    await db.runMigrations();
    const tenantId = randomUUID();
    const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    const start = new Date(today.getTime() - 30 * DAY_MS);

    let t = performance.now();
    await fill(db, tenantId, rows, start, shape);
    const fillS = (performance.now() - t) / 1000;

    const rollups = new UsageRollupRepository(db);
    const state = new UsageLedgerStateRepository(db);
    const transactions = new Transactions(db);
    t = performance.now();
    await new UsageRollupRebuilder(rollups, state, transactions).rebuild({ from: start, to: today });
    const rebuildS = (performance.now() - t) / 1000;
    await db.query(`ANALYZE usage_records`);
    await db.query(`ANALYZE usage_rollups`);
    const [{ n: rollupRows }] = await db.query(`SELECT count(*) AS n FROM usage_rollups`);

    const recorder = new UsageRecorder(new UsageRecordRepository(db));
    const query = new UsageQuery(rollups, recorder, new UsageLedgerState(state, rollups, transactions));
    const window = {
      from: start.toISOString().slice(0, 10),
      to: new Date(today.getTime() - 1).toISOString().slice(0, 10),
    };
    console.log(
      `\n${kind}, ${rows.toLocaleString('en')} records: filled in ${fillS.toFixed(1)} s, rollups rebuilt in ${rebuildS.toFixed(1)} s (${Number(rollupRows).toLocaleString('en')} rollup rows)`,
    );
    console.log(
      `  ${'group_by'.padEnd(26)} ${'rollups (ms)'.padStart(13)} ${'cpu (ms)'.padStart(9)} ${'ledger (ms)'.padStart(12)}  equal  load average`,
    );
    const measure = async (label: string, groupBy: UsageGroup, range: { from: string; to: string }) => {
      const report = () => query.report(tenantId, { ...range, group_by: groupBy });
      const direct = () => ledgerAggregate(db, tenantId, groupBy, range);
      const { elapsed: fromRollups, cpu } = await median(report, runs);
      const a = await report();
      t = performance.now();
      const b = await direct();
      const fromLedger = performance.now() - t;
      const equal = a.totals.requests === b.requests && Math.abs(a.totals.cost - b.cost) < 1e-9;
      const load = loadavg()[0].toFixed(1);
      console.log(
        `  ${label.padEnd(26)} ${fromRollups.toFixed(1).padStart(13)} ${(kind === 'embedded' ? cpu.toFixed(1) : '-').padStart(9)} ${fromLedger.toFixed(1).padStart(12)}  ${(equal ? 'yes' : 'NO').padEnd(5)}  ${load}`,
      );
    };
    for (const groupBy of GROUPS) await measure(groupBy, groupBy, window);
    // The default window (the last 30 days to now): partial hours at both edges come from the ledger.
    const now = new Date(today.getTime() - 30 * 60_000 - 1234);
    await measure('day, instants (edge hours)', 'day', {
      from: new Date(now.getTime() - 30 * DAY_MS).toISOString(),
      to: now.toISOString(),
    });
    await recorder.drain();
  } finally {
    await db.destroy();
    await endpoint.close();
    await database.drop();
  }
}

async function fill(db: DataSource, tenantId: string, rows: number, start: Date, shape: Shape): Promise<void> {
  const keys = Array.from({ length: shape.keys }, () => randomUUID());
  const users = Array.from({ length: shape.users }, () => randomUUID());
  const models = Array.from({ length: shape.models }, (_, i) => `vendor-${i}/model-${i}`);
  const stepMs = (30 * DAY_MS) / rows;
  // The secondary indexes are built once at the end: faster than keeping them up row by row (the fill is not timed).
  const indexes: { name: string; def: string }[] = await db.query(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'usage_records' AND indexdef NOT LIKE 'CREATE UNIQUE%'`,
  );
  for (const { name } of indexes) await db.query(`DROP INDEX "${name}"`);
  for (let first = 0; first < rows; first += FILL_CHUNK) {
    const last = Math.min(rows, first + FILL_CHUNK) - 1;
    // Key i belongs to user i % users; models cycle every `keys` rows, so every (key, model) pair occurs.
    await db.query(
      `INSERT INTO usage_records (tenant_id, api_key_id, user_id, model, prompt_tokens, completion_tokens,
         total_tokens, cost, status_code, outcome, created_at)
       SELECT $1::uuid, ($2::uuid[])[1 + i % $5], ($3::uuid[])[1 + (i % $5) % $6], ($4::text[])[1 + (i / $5) % $7],
              i % 997, i % 313, i % 997 + i % 313, (i % 1000) * 0.000001, 200, 'completed',
              $8::timestamptz + (i * $9::double precision) * interval '1 millisecond'
         FROM generate_series($10::int, $11::int) AS i`,
      [tenantId, keys, users, models, shape.keys, shape.users, shape.models, start.toISOString(), stepMs, first, last],
    );
  }
  for (const { def } of indexes) await db.query(def);
}

async function ledgerAggregate(
  db: DataSource,
  tenantId: string,
  groupBy: UsageGroup,
  range: { from: string; to: string },
): Promise<{ requests: number; cost: number }> {
  const from = new Date(/T/.test(range.from) ? range.from : `${range.from}T00:00:00Z`);
  const to = /T/.test(range.to) ? new Date(range.to) : new Date(new Date(`${range.to}T00:00:00Z`).getTime() + DAY_MS);
  const rows: { requests: string; cost: string }[] = await db.query(
    `SELECT ${LEDGER_KEY[groupBy]} AS key, count(*) AS requests, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
            coalesce(sum(completion_tokens), 0) AS completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
            coalesce(sum(cost), 0) AS cost
       FROM usage_records WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
      GROUP BY 1 ORDER BY 1 NULLS LAST`,
    [tenantId, from.toISOString(), to.toISOString()],
  );
  return rows.reduce((t, r) => ({ requests: t.requests + Number(r.requests), cost: t.cost + Number(r.cost) }), {
    requests: 0,
    cost: 0,
  });
}

/** Median elapsed and CPU (this process's: the embedded database's work included) milliseconds of `runs` runs. */
async function median(run: () => Promise<unknown>, runs: number): Promise<{ elapsed: number; cpu: number }> {
  await run(); // warm-up
  const elapsed: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await run();
    const used = process.cpuUsage(c);
    elapsed.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { elapsed: mid(elapsed), cpu: mid(cpu) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
