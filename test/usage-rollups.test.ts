/**
 * Usage rollups on the real database (PostgreSQL or the embedded one, whichever the run uses):
 * - reports read from the rollups equal the ledger's own aggregate, on random records and windows, for every
 *   group_by (fast-check);
 * - the tenant route (owners and admins, JSON or CSV), beside /api/v1/usage;
 * - usage:rebuild, through the command line, restores damaged rollups and is idempotent;
 * - retention removes old raw records in batches on one process at a time while a writer keeps writing, and the
 *   reports do not change (the rollups stay).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { dataSourceOptions, openDatabaseEndpoint, Transactions, type DatabaseEndpoint } from '#libs/database';
import { UsageQuery, UsageRecorder, UsageRecordRepository, UsageRetention, type UsageGroup } from '#libs/gateway';
import { JobLease, JobLeaseRepository } from '#libs/reconciliation';
import { UsageLedgerState, UsageLedgerStateRepository, UsageRollupRebuilder, UsageRollupRepository } from '#libs/usage';
import { createTestDatabase, startApp, type TestApp, type TestDatabase } from './support/app';
import { cliRunner } from './support/cli';
import { FakeOpenRouter } from './support/fake-openrouter';
import { usageRecord } from './support/usage-records';
import { fixedSession, newClerkUser } from './support/users';
import { anotherKey, chatBody, keyHeaders, newTenantKey, postChat, type TenantKey } from './gateway-helpers';

const GROUPS: UsageGroup[] = ['day', 'api_key', 'user', 'model'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The ledger's own aggregate: what every report must equal. */
const LEDGER_KEY: Record<UsageGroup, string> = {
  day: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  api_key: 'api_key_id::text',
  user: 'user_id::text',
  model: 'model',
};

const roundCost = (value: number) => Math.round(value * 1e10) / 1e10;

interface Sums {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
}

function sums(r: Record<string, unknown>): Sums {
  return {
    requests: Number(r.requests ?? 0),
    prompt_tokens: Number(r.prompt_tokens ?? 0),
    completion_tokens: Number(r.completion_tokens ?? 0),
    total_tokens: Number(r.total_tokens ?? 0),
    cost: roundCost(Number(r.cost ?? 0)),
  };
}

async function ledgerReport(db: DataSource, tenantId: string, groupBy: UsageGroup, from: Date, to: Date) {
  const params = [tenantId, from.toISOString(), to.toISOString()];
  const where = `WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3`;
  const cols = `count(*) AS requests, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
    coalesce(sum(completion_tokens), 0) AS completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
    coalesce(sum(cost), 0) AS cost`;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${LEDGER_KEY[groupBy]} AS key, ${cols} FROM usage_records ${where} GROUP BY 1 ORDER BY 1 NULLS LAST`,
    params,
  );
  const [totals]: Record<string, unknown>[] = await db.query(`SELECT ${cols} FROM usage_records ${where}`, params);
  return { data: rows.map((r) => ({ key: r.key as string | null, ...sums(r) })), totals: sums(totals) };
}

/** The database opened from the test: the services built on it as the server builds them. */
async function openServices(database: TestDatabase) {
  const endpoint: DatabaseEndpoint = await openDatabaseEndpoint({
    databaseUrl: database.env.DATABASE_URL,
    dataDir: database.env.DATA_DIR ?? '',
    poolSize: 10,
  });
  const db = await new DataSource(dataSourceOptions(endpoint)).initialize();
  await db.runMigrations();
  const records = new UsageRecordRepository(db);
  const rollups = new UsageRollupRepository(db);
  const state = new UsageLedgerStateRepository(db);
  const transactions = new Transactions(db);
  const recorder = new UsageRecorder(records);
  const ledger = new UsageLedgerState(state, rollups, transactions);
  return {
    db,
    recorder,
    ledger,
    query: new UsageQuery(rollups, recorder, ledger),
    rebuilder: new UsageRollupRebuilder(rollups, state, transactions),
    retention: (days: number, batchSize = 50, pauseMs = 5) =>
      new UsageRetention(records, new JobLease(new JobLeaseRepository(db)), ledger, { days, batchSize, pauseMs }),
    close: async () => {
      await recorder.drain();
      await db.destroy();
      await endpoint.close();
    },
  };
}

describe('usage rollups: reports equal the ledger', () => {
  let database: TestDatabase;
  let s: Awaited<ReturnType<typeof openServices>>;

  /** The report by every grouping equals the ledger's own sums over the same instants. */
  const sameAsLedger = async (tenantId: string, from: Date, to: Date) => {
    for (const groupBy of GROUPS) {
      const report = await s.query.report(tenantId, {
        from: from.toISOString(),
        to: to.toISOString(),
        group_by: groupBy,
      });
      const expected = await ledgerReport(s.db, tenantId, groupBy, from, to);
      assert.deepEqual(report.data, expected.data, `${groupBy} ${from.toISOString()}..${to.toISOString()}`);
      assert.deepEqual(report.totals, expected.totals);
      assert.equal(report.from, from.toISOString());
      assert.equal(report.to, to.toISOString());
    }
  };

  before(async () => {
    database = await createTestDatabase();
    s = await openServices(database);
  });
  after(async () => {
    await s?.close();
    await database?.drop();
  });

  const keys = [randomUUID(), randomUUID(), null];
  const users = [randomUUID(), null];
  const models = ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4', 'odd, "quoted" model', null];
  // Records over five UTC days from a midnight, so that windows cross days, hours and partial hours.
  const base = Date.UTC(2026, 0, 10);
  const span = 5 * DAY;
  const instant = fc.integer({ min: -DAY, max: span + DAY });
  const arbRecord = fc.record({
    key: fc.integer({ min: 0, max: keys.length - 1 }),
    user: fc.integer({ min: 0, max: users.length - 1 }),
    model: fc.integer({ min: 0, max: models.length - 1 }),
    at: fc.oneof(
      fc.integer({ min: 0, max: span - 1 }),
      fc.integer({ min: 0, max: 120 }).map((h) => h * HOUR),
    ),
    prompt: fc.nat({ max: 100_000 }),
    completion: fc.nat({ max: 100_000 }),
    cost: fc.option(fc.integer({ min: 0, max: 50_000_000 }), { nil: null }),
    flushAfter: fc.boolean(),
  });
  const arbBound = fc.oneof(
    instant,
    instant.map((t) => Math.floor(t / HOUR) * HOUR),
    instant.map((t) => Math.floor(t / DAY) * DAY),
  );
  const arbWindow = fc
    .tuple(arbBound, arbBound)
    .map(([a, b]) => (a === b ? [a, b + 1] : [Math.min(a, b), Math.max(a, b)]));

  it('for random records and windows, every group_by answers what the ledger sums, totals included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbRecord, { maxLength: 40 }),
        fc.array(arbWindow, { minLength: 1, maxLength: 3 }),
        async (generated, windows) => {
          const tenantId = randomUUID();
          for (const g of generated) {
            s.recorder.record(
              usageRecord(tenantId, new Date(base + g.at), {
                apiKeyId: keys[g.key],
                userId: users[g.user],
                model: models[g.model],
                promptTokens: g.prompt,
                completionTokens: g.completion,
                totalTokens: g.prompt + g.completion,
                cost: g.cost === null ? null : g.cost / 1e10,
              }),
            );
            if (g.flushAfter) await s.recorder.drain();
          }
          for (const [a, b] of windows) {
            const from = new Date(base + a);
            const to = new Date(base + b);
            await sameAsLedger(tenantId, from, to);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('reads a mostly covered day or hour as the whole minus its outside, and leaves out the groups that cancel', async () => {
    const tenantId = randomUUID();
    const day = base + 2 * DAY;
    // Outside the window only: in the day's first hours, and in the last hour's minutes after the window's end.
    s.recorder.record(usageRecord(tenantId, new Date(day + HOUR), { model: 'early' }));
    s.recorder.record(usageRecord(tenantId, new Date(day + 22 * HOUR + 50 * 60_000), { model: 'late' }));
    // Inside: kept.
    s.recorder.record(usageRecord(tenantId, new Date(day + 2 * HOUR + 30 * 60_000), { model: 'inside', cost: null }));
    s.recorder.record(usageRecord(tenantId, new Date(day + 22 * HOUR + 5 * 60_000), { model: 'inside' }));
    await s.recorder.drain();
    // 02:20 to 22:40: the day minus hours 00-02 and 23-24, the hours 02 and 22 minus their outside minutes.
    const from = new Date(day + 2 * HOUR + 20 * 60_000);
    const to = new Date(day + 22 * HOUR + 40 * 60_000);
    await sameAsLedger(tenantId, from, to);
    const byModel = await s.query.report(tenantId, {
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: 'model',
    });
    assert.deepEqual(
      byModel.data.map((r) => [r.key, r.requests]),
      [['inside', 2]],
    );
  });

  it('a batch that fails is written neither to the ledger nor to the rollups', async () => {
    const tenantId = randomUUID();
    const at = new Date(base);
    // The check constraint refuses negative tokens: the statement (ledger and rollups together) fails whole.
    s.recorder.record(usageRecord(tenantId, at));
    s.recorder.record(usageRecord(tenantId, at, { promptTokens: -1 }));
    await s.recorder.drain();
    const [rollups] = await s.db.query(`SELECT count(*) AS n FROM usage_rollups WHERE tenant_id = $1`, [tenantId]);
    const [ledger] = await s.db.query(`SELECT count(*) AS n FROM usage_records WHERE tenant_id = $1`, [tenantId]);
    assert.deepEqual([Number(rollups.n), Number(ledger.n)], [0, 0]);
  });
});

describe('usage rollups: the tenant route, CSV and usage:rebuild', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  let app: TestApp;
  let owner: TenantKey;
  let second: TenantKey;
  const { ok } = cliRunner(() => database, fake);

  async function signIn() {
    const session = fixedSession(newClerkUser());
    const me = await app.request('GET', '/api/users/me', { headers: session() });
    assert.equal(me.status, 200, me.text);
    return { session, userId: me.body.id as string, tenantId: me.body.tenant.id as string };
  }

  const platformAdmin = newClerkUser();
  const start = () =>
    startApp({ inProcess: true, openRouter: fake, database, env: { PLATFORM_ADMIN_USER_IDS: platformAdmin.sub } });

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    app = await start();
    owner = await newTenantKey(app);
    second = await anotherKey(app, owner);
    fake.setUsage({ prompt_tokens: 12, completion_tokens: 5, cost: 0.00042 });
    for (const [key, model] of [
      [owner.key, 'openai/gpt-4o-mini'],
      [owner.key, 'anthropic/claude-sonnet-4'],
      [second.key, 'openai/gpt-4o-mini'],
    ]) {
      const res = await postChat(app, key, chatBody({ model }));
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
    await fake.stop();
  });

  const weekAgo = new Date(Date.now() - 7 * DAY).toISOString().slice(0, 10);
  const tenantUsage = (session: () => Record<string, string>, tenantId: string, query = '', headers = {}) =>
    app.request('GET', `/api/tenants/${tenantId}/usage${query}`, { headers: { ...session(), ...headers } });

  it('answers owners and admins as /api/v1/usage answers the key; a member gets 403, another tenant 404', async () => {
    const admin = await signIn();
    const member = await signIn();
    const stranger = await signIn();
    for (const [who, role] of [
      [admin, 'admin'],
      [member, 'member'],
    ] as const) {
      const added = await app.request('POST', `/api/tenants/${owner.tenantId}/members`, {
        headers: owner.session(),
        body: { user_id: who.userId, role },
      });
      assert.equal(added.status, 201, added.text);
    }
    for (const groupBy of GROUPS) {
      const query = `?group_by=${groupBy}&from=${weekAgo}`;
      const viaKey = await app.request('GET', `/api/v1/usage${query}`, { headers: keyHeaders(owner.key) });
      assert.equal(viaKey.status, 200, viaKey.text);
      assert.equal(viaKey.body.totals.requests, 3);
      for (const who of [owner.session, admin.session]) {
        const res = await tenantUsage(who, owner.tenantId, query);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.data, viaKey.body.data);
        assert.deepEqual(res.body.totals, viaKey.body.totals);
      }
    }
    const byModel = await tenantUsage(owner.session, owner.tenantId, '?group_by=model');
    assert.deepEqual(
      byModel.body.data.map((r: any) => [r.key, r.requests, r.prompt_tokens]),
      [
        ['anthropic/claude-sonnet-4', 1, 12],
        ['openai/gpt-4o-mini', 2, 24],
      ],
    );
    const refused = await tenantUsage(member.session, owner.tenantId);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, 'forbidden');
    const hidden = await tenantUsage(stranger.session, owner.tenantId);
    assert.equal(hidden.status, 404, hidden.text);
    assert.equal(hidden.body.code, 'not_found');
    const bad = await tenantUsage(owner.session, owner.tenantId, '?group_by=hour');
    assert.equal(bad.status, 400);
    const badFormat = await tenantUsage(owner.session, owner.tenantId, '?format=xml');
    assert.equal(badFormat.status, 400);
  });

  it('answers CSV for format=csv and for Accept: text/csv: a header row, then a row per group', async () => {
    const json = await tenantUsage(owner.session, owner.tenantId, '?group_by=api_key');
    const byQuery = await tenantUsage(owner.session, owner.tenantId, '?group_by=api_key&format=csv');
    const byAccept = await tenantUsage(owner.session, owner.tenantId, '?group_by=api_key', { accept: 'text/csv' });
    const viaKey = await app.request('GET', '/api/v1/usage?group_by=api_key', {
      headers: { ...keyHeaders(owner.key), accept: 'text/csv, application/json;q=0.5' },
    });
    for (const res of [byQuery, byAccept, viaKey]) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.match(
        res.headers.get('content-disposition') ?? '',
        /^attachment; filename="usage-[a-z0-9-]+-api_key-[\d-]+\.csv"$/,
      );
      const lines = res.text.split('\r\n');
      assert.equal(lines.pop(), '', 'ends with a line break');
      assert.equal(lines[0], 'api_key,requests,prompt_tokens,completion_tokens,total_tokens,cost');
      assert.deepEqual(
        lines.slice(1),
        json.body.data.map((r: any) =>
          [r.key, r.requests, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.cost].join(','),
        ),
      );
    }
    // JSON stays the default, and `format=json` wins over Accept.
    const asJson = await tenantUsage(owner.session, owner.tenantId, '?format=json', { accept: 'text/csv' });
    assert.match(asJson.headers.get('content-type') ?? '', /application\/json/);
  });

  it('admin stats add up the spend of the last 24 hours and 30 days, and per tenant, from the rollups', async () => {
    const res = await app.request('GET', '/api/admin/stats', { headers: fixedSession(platformAdmin)() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.spend_last_24h, 0.00126);
    assert.equal(res.body.spend_last_30d, 0.00126);
    assert.deepEqual(
      res.body.spend_by_tenant.map((t: any) => [t.tenant_id, t.requests, t.cost]),
      [[owner.tenantId, 3, 0.00126]],
    );
  });

  it('usage:rebuild restores damaged rollups from the ledger, and running it twice changes nothing', async () => {
    const query = `?group_by=model&from=${weekAgo}`;
    const before = (await tenantUsage(owner.session, owner.tenantId, query)).body;
    await app.stop(); // the embedded database serves one process at a time
    try {
      const s = await openServices(database);
      try {
        await s.db.query(`UPDATE usage_rollups SET requests = requests + 100, cost = 0 WHERE tenant_id = $1`, [
          owner.tenantId,
        ]);
      } finally {
        await s.close();
      }
      const snapshot = async () => {
        const s = await openServices(database);
        try {
          return await s.db.query(`SELECT * FROM usage_rollups ORDER BY 1, 2, 3, 4, 5, 6`);
        } finally {
          await s.close();
        }
      };
      const first = await ok('usage:rebuild');
      assert.match(first.stderr, /^usage:rebuild \d{4}-\d{2}-\d{2} +1\/1 day\(s\) +3 record\(s\)/m);
      assert.match(first.stdout, /Rebuilt 1 day\(s\)/);
      const once = await snapshot();
      const today = new Date().toISOString().slice(0, 10);
      await ok('usage:rebuild', '--from', today, '--to', new Date(Date.now() + DAY).toISOString());
      assert.deepEqual(await snapshot(), once);
    } finally {
      app = await start();
    }
    const after = (await tenantUsage(owner.session, owner.tenantId, query)).body;
    assert.deepEqual(after.data, before.data);
    assert.deepEqual(after.totals, before.totals);
  });
});

describe('usage retention', () => {
  let database: TestDatabase;
  let s: Awaited<ReturnType<typeof openServices>>;

  before(async () => {
    database = await createTestDatabase();
    s = await openServices(database);
  });
  after(async () => {
    await s?.close();
    await database?.drop();
  });

  it('removes old raw records in batches on one process at a time while a writer writes; reports do not change', async () => {
    const now = new Date();
    const tenantId = randomUUID();
    const writerTenant = randomUUID();
    const old = Array.from({ length: 600 }, (_, i) => new Date(now.getTime() - (40 + (i % 20)) * DAY - i * 1000));
    const recent = Array.from({ length: 50 }, (_, i) => new Date(now.getTime() - (i % 10) * DAY - HOUR));
    for (const at of [...old, ...recent])
      s.recorder.record(usageRecord(tenantId, at, { model: `m${at.getTime() % 3}` }));
    await s.recorder.drain();
    const window = {
      from: new Date(now.getTime() - 70 * DAY).toISOString().slice(0, 10),
      to: new Date(now.getTime() + DAY).toISOString().slice(0, 10),
    };
    const reports = () => Promise.all(GROUPS.map((group_by) => s.query.report(tenantId, { ...window, group_by })));
    const before = await reports();
    assert.equal(before[0].totals.requests, 650);

    // Two processes' jobs at once: the lease lets one of them run.
    let retentionDone = false;
    let written = 0;
    const writer = (async () => {
      while (!retentionDone || written < 200) {
        for (let i = 0; i < 10; i++, written++) s.recorder.record(usageRecord(writerTenant, new Date()));
        await s.recorder.drain();
      }
    })();
    const outcomes = await Promise.all([s.retention(30).run(now), s.retention(30).run(now)]).finally(
      () => (retentionDone = true),
    );
    await writer;

    const ran = outcomes.filter((o) => o.ran);
    assert.equal(ran.length, 1, JSON.stringify(outcomes));
    assert.deepEqual(
      outcomes.filter((o) => !o.ran),
      [{ ran: false, reason: 'busy' }],
    );
    const cutoff = new Date(Math.floor((now.getTime() - 30 * DAY) / DAY) * DAY);
    assert.deepEqual(ran[0], { ran: true, cutoff, deleted: 600 });
    const count = async (sql: string, params: unknown[]) => Number((await s.db.query(sql, params))[0].n);
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE created_at < $1`, [cutoff]), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE tenant_id = $1`, [tenantId]), 50);
    // Every write of the writer landed, in the ledger and in the rollups.
    assert.equal(await count(`SELECT count(*) AS n FROM usage_records WHERE tenant_id = $1`, [writerTenant]), written);
    assert.equal(
      await count(`SELECT sum(requests) AS n FROM usage_rollups WHERE tenant_id = $1 AND granularity = 'day'`, [
        writerTenant,
      ]),
      written,
    );
    assert.deepEqual(await reports(), before);

    // A rebuild keeps the rollups of the pruned days (their records are gone); reports are still the same.
    const rebuilt = await s.rebuilder.rebuild({ from: new Date(now.getTime() - 70 * DAY) });
    assert.deepEqual(rebuilt.keptBefore, cutoff);
    assert.equal(rebuilt.records, 50 + written);
    assert.deepEqual(await reports(), before);

    // A partial hour before the cutoff is read whole from the hour rollups; the report says so.
    const mid = new Date(old[0].getTime() - 20 * 60_000);
    const edge = await s.query.report(tenantId, { from: mid.toISOString(), to: window.to });
    assert.equal(edge.from, new Date(Math.floor(mid.getTime() / HOUR) * HOUR).toISOString());
  });

  it('does nothing with USAGE_RETENTION_DAYS=0', async () => {
    assert.deepEqual(await s.retention(0).run(), { ran: false, reason: 'disabled' });
  });
});
