/**
 * Nothing answered is forgotten: completions answered 200 (some streamed), then the server SIGKILLed before
 * its batches were written; the next start replays its journal, so that the ledger, `tokens_used` (and
 * spend) count every answered request exactly once, however many times the server restarts. A clean
 * SIGTERM leaves no journal and the next start replays nothing. Child processes (they are killed), on the
 * database the tests run on (embedded PGlite, or PostgreSQL with TEST_DATABASE_URL, counters in Redis with
 * TEST_REDIS_URL).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, redisAvailable, startApp, type TestApp, type TestDatabase } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { collectSse } from './support/sse';
import { chatBody, keyHeaders, newTenantKey, postChat, type TenantKey } from './gateway-helpers';

/** What the fake reports for each completion. */
const TOKENS = 30;
const COST = 0.0001;

describe('crash journal', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  let dataDir: string;
  let app: TestApp;
  let key: TenantKey;
  /** Completions answered 200 so far. */
  let answered = 0;

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    // The embedded database's DATA_DIR, or one of the test's own beside PostgreSQL.
    dataDir = database.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'umb-journal-'));
    app = await startApp({
      database,
      openRouter: fake,
      redis: redisAvailable(),
      env: { DATA_DIR: dataDir, OPENROUTER_TIMEOUT_MS: '5000', OPENROUTER_CHAT_TIMEOUT_MS: '5000' },
    });
    key = await newTenantKey(app);
  });

  after(async () => {
    await app?.stop('SIGKILL');
    await database?.drop();
    if (!database?.env.DATA_DIR && dataDir) rmSync(dataDir, { recursive: true, force: true });
    await fake.stop();
  });

  /** `n` completions at once, every third streamed, each read to its end and answered 200. */
  async function complete(n: number): Promise<void> {
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const stream = i % 3 === 0;
        const res = await postChat(app, key.key, chatBody(stream ? { stream: true } : {}));
        assert.equal(res.status, 200);
        if (stream) assert.equal((await collectSse(res)).done, true, 'the stream ended with [DONE]');
        else assert.equal(((await res.json()) as any).usage.total_tokens, TOKENS);
      }),
    );
    answered += n;
  }

  /** The journal files under DATA_DIR (one directory per installation). */
  function journalFiles(): { name: string; lines: number }[] {
    const root = join(dataDir, 'journal');
    if (!existsSync(root)) return [];
    const dirs = readdirSync(root).map((d) => join(root, d));
    return dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.jnl'))
        .map((f) => ({ name: f, lines: readFileSync(join(d, f), 'utf8').split('\n').filter(Boolean).length })),
    );
  }

  /** Starts the server again on the same database and DATA_DIR; returns what it logged. */
  async function startAgain(): Promise<string> {
    const before = app.logs().length;
    await app.start();
    return app.logs().slice(before);
  }

  /** The ledger, `tokens_used` and spend all count exactly the requests answered. */
  async function assertCounted(what: string): Promise<void> {
    const usage = await app.request('GET', '/api/v1/usage?group_by=api_key', { headers: keyHeaders(key.key) });
    assert.equal(usage.status, 200, usage.text);
    assert.equal(usage.body.totals.requests, answered, `${what}: usage records`);
    assert.equal(usage.body.totals.total_tokens, answered * TOKENS, `${what}: usage tokens`);
    assert.ok(Math.abs(usage.body.totals.cost - answered * COST) < 1e-9, `${what}: usage cost`);
    const me = await app.request('GET', '/api/v1/me', { headers: keyHeaders(key.key) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.api_key.tokens_used, answered * TOKENS, `${what}: tokens_used`);
    assert.ok(Math.abs(me.body.api_key.spent_usd - answered * COST) < 1e-9, `${what}: the key's spent_usd`);
    assert.ok(Math.abs(me.body.tenant.spent_usd - answered * COST) < 1e-9, `${what}: the tenant's spent_usd`);
  }

  it('counts every completion answered before a SIGKILL exactly once, across restarts', async (t) => {
    await complete(24);
    await app.kill();
    const owed = journalFiles();
    t.diagnostic(`journal at the kill: ${JSON.stringify(owed)}`);
    assert.ok(owed.length > 0, 'the killed server left its journal');

    const logs = await startAgain();
    assert.match(logs, /Replayed 1 journal/);
    assert.deepEqual(journalFiles(), [], 'the replayed journal is gone (the new one is empty until used)');
    await assertCounted('after the first restart');

    // Killed again with nothing new: the next start has nothing to replay, and counts nothing twice.
    await app.kill();
    await startAgain();
    await assertCounted('after a second kill and restart');

    // And the journal of the restarted server works the same way.
    await complete(9);
    await app.kill();
    await startAgain();
    await assertCounted('after a kill of the restarted server');
  });

  it('leaves no journal after a clean SIGTERM, and the next start replays nothing', async () => {
    await complete(6);
    await app.stop('SIGTERM'); // the database is the test's: kept
    assert.deepEqual(journalFiles(), [], 'a drained server removes its journal');
    const logs = await startAgain();
    assert.doesNotMatch(logs, /Replayed/);
    await assertCounted('after a clean stop');
  });
});
