/**
 * Secrets at rest, through the real server and command line: which keys start-up accepts, the key
 * fingerprint the database remembers, rotation with ENCRYPTION_KEY_PREVIOUS and `secrets:reseal`,
 * values sealed before they were bound to their rows, and the modes of DATA_DIR's files.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createTestDatabase, postgresAvailable, REPO_ROOT, startApp, type TestDatabase } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';
import { fixedSession, newClerkUser } from './support/users';

const CLI = path.join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const newKey = () => randomBytes(32).toString('base64');

/**
 * Starting must fail; returns what the process printed, or (`inProcess`) the error the app's start-up threw. The
 * refusals that concern the process itself (what an operator reads) run in a child process, the rest in process.
 */
async function startFails(env: Record<string, string>, database?: TestDatabase, inProcess = false): Promise<string> {
  try {
    const app = await startApp({ env, database, startTimeoutMs: 30_000, inProcess });
    await app.stop();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the server started');
}

function cli(database: TestDatabase, fake: FakeOpenRouter, env: Record<string, string>, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const childEnv = {
      PATH: process.env.PATH ?? '',
      ...database.env,
      NODE_ENV: 'test',
      OPENROUTER_BASE_URL: fake.baseUrl,
      OPENROUTER_PROVISIONING_API_KEY: fake.provisioningKey,
      ...env,
    };
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: childEnv }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs SQL on a stopped server's database: PostgreSQL directly, or the embedded files opened here. */
async function withDatabase<T>(
  database: TestDatabase,
  run: (sql: (q: string, p?: unknown[]) => Promise<any[]>) => Promise<T>,
) {
  if (database.kind === 'postgres') {
    const client = new Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      return await run(async (q, p) => (await client.query(q, p as unknown[])).rows);
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(path.join(database.env.DATA_DIR, 'pglite'));
  try {
    return await run(async (q, p) => (await db.query(q, p as unknown[])).rows as any[]);
  } finally {
    await db.close();
  }
}

/** The first release's format: AES-256-GCM without associated data. */
function legacySeal(keyBase64: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyBase64, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))].join('.');
}

describe('encryption key at start-up', () => {
  it('refuses DATABASE_URL without ENCRYPTION_KEY, naming it', async () => {
    const logs = await startFails({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', ENCRYPTION_KEY: '' });
    assert.match(logs, /ENCRYPTION_KEY: required with DATABASE_URL/);
  });

  it('refuses NODE_ENV=production without ENCRYPTION_KEY', async () => {
    const logs = await startFails({ NODE_ENV: 'production', ENCRYPTION_KEY: '' });
    assert.match(logs, /ENCRYPTION_KEY: required when NODE_ENV=production/);
  });

  it('refuses a key of one repeated byte, and a previous key equal to the key', async () => {
    for (const byte of [0, 0x41, 0xff]) {
      const logs = await startFails({ ENCRYPTION_KEY: Buffer.alloc(32, byte).toString('base64') });
      assert.match(logs, /ENCRYPTION_KEY: must be random bytes, not one byte repeated/);
    }
    const key = newKey();
    const logs = await startFails({ ENCRYPTION_KEY: key, ENCRYPTION_KEY_PREVIOUS: key });
    assert.match(logs, /ENCRYPTION_KEY_PREVIOUS: must differ from ENCRYPTION_KEY/);
    assert.ok(!logs.includes(key), 'the key itself is never printed');
  });
});

describe('key fingerprint, rotation and re-sealing', () => {
  const fake = new FakeOpenRouter();
  const user = newClerkUser();
  const session = fixedSession(user);
  const k1 = newKey();
  const k2 = newKey();
  const k3 = newKey();
  let database: TestDatabase;
  let openRouterKey: string;
  const glmKey = `glm-${randomBytes(12).toString('hex')}`;

  const meWith = async (env: Record<string, string>) => {
    const app = await startApp({ inProcess: true, database, openRouter: fake, env });
    try {
      const me = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(me.status, 200, me.text);
      return me.body;
    } finally {
      await app.stop();
    }
  };

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    const app = await startApp({ inProcess: true, database, openRouter: fake, env: { ENCRYPTION_KEY: k1 } });
    try {
      const me = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(me.body.openrouter_key_status, 'active', me.text);
      openRouterKey = me.body.openrouter_api_key;
      const put = await app.request('PUT', '/api/users/me/provider-keys/glm', {
        headers: session(),
        body: { api_key: glmKey },
      });
      assert.equal(put.status, 200, put.text);
    } finally {
      await app.stop();
    }
  });

  after(async () => {
    await database?.drop();
    await fake.stop();
  });

  it('stores secrets bound to their row, never in clear', async () => {
    const rows = await withDatabase(database, (sql) =>
      sql(`SELECT key_encrypted FROM openrouter_keys UNION ALL SELECT key_encrypted FROM user_provider_keys`),
    );
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(r.key_encrypted, /^v2\.[0-9a-f]{12}\./);
      assert.ok(!r.key_encrypted.includes(openRouterKey) && !r.key_encrypted.includes(glmKey));
    }
  });

  it('refuses to start with another key, naming ENCRYPTION_KEY', async () => {
    const logs = await startFails({ ENCRYPTION_KEY: k2 }, database);
    assert.match(logs, /ENCRYPTION_KEY: does not match the key this database's secrets are sealed with/);
    assert.ok(!logs.includes(k1) && !logs.includes(k2));
  });

  it('the command line refuses another key too', async () => {
    const res = await cli(database, fake, { ENCRYPTION_KEY: k2 }, 'users:list');
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /ENCRYPTION_KEY: does not match/);
  });

  it('rotates with secrets:reseal: counts, then the previous key can be dropped', async () => {
    const res = await cli(
      database,
      fake,
      { ENCRYPTION_KEY: k2, ENCRYPTION_KEY_PREVIOUS: k1 },
      'secrets:reseal',
      '--json',
    );
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.deepEqual(
      report.columns
        .map((c: { column: string; stale: number; resealed: number; failed: number }) => [
          c.column,
          c.stale,
          c.resealed,
          c.failed,
        ])
        .sort(),
      [
        ['openrouter_keys.key_encrypted', 1, 1, 0],
        ['user_provider_keys.key_encrypted', 1, 1, 0],
      ],
    );
    assert.equal(report.fingerprint_current, true);

    const again = await cli(database, fake, { ENCRYPTION_KEY: k2 }, 'secrets:reseal');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Re-sealed 0 of 0 secrets, 0 failed/);

    const me = await meWith({ ENCRYPTION_KEY: k2 });
    assert.deepEqual([me.openrouter_api_key, me.glm_api_key], [openRouterKey, glmKey]);
    assert.match(await startFails({ ENCRYPTION_KEY: k1 }, database, true), /ENCRYPTION_KEY: does not match/);
  });

  it('a server started with the new and previous keys reads old secrets and re-seals them itself', async () => {
    const me = await meWith({ ENCRYPTION_KEY: k3, ENCRYPTION_KEY_PREVIOUS: k2 });
    assert.deepEqual([me.openrouter_api_key, me.glm_api_key], [openRouterKey, glmKey]);
    // Stopping waits for the start-up re-seal, so the previous key is no longer needed now.
    const after = await meWith({ ENCRYPTION_KEY: k3 });
    assert.deepEqual([after.openrouter_api_key, after.glm_api_key], [openRouterKey, glmKey]);
  });

  it('values sealed before they were bound to rows stay readable and are re-sealed at the first start-up', async () => {
    await withDatabase(database, async (sql) => {
      await sql(`UPDATE openrouter_keys SET key_encrypted = $1`, [legacySeal(k3, openRouterKey)]);
      await sql(`UPDATE user_provider_keys SET key_encrypted = $1`, [legacySeal(k3, glmKey)]);
      // As the database of a release that had no fingerprint yet.
      await sql(`UPDATE installation SET key_fingerprint = NULL`);
    });
    assert.match(
      await startFails({ ENCRYPTION_KEY: newKey() }, database, true),
      /ENCRYPTION_KEY: opens none of the secrets stored in this database/,
    );
    const me = await meWith({ ENCRYPTION_KEY: k3 });
    assert.deepEqual([me.openrouter_api_key, me.glm_api_key], [openRouterKey, glmKey]);
    const rows = await withDatabase(database, (sql) =>
      sql(`SELECT key_encrypted FROM openrouter_keys UNION ALL SELECT key_encrypted FROM user_provider_keys`),
    );
    for (const r of rows) assert.match(r.key_encrypted, /^v2\./);
  });

  it('a sealed value copied to another row does not open there', async () => {
    const other = newClerkUser();
    const app = await startApp({ inProcess: true, database, openRouter: fake, env: { ENCRYPTION_KEY: k3 } });
    let otherId: string;
    try {
      const me = await app.request('GET', '/api/users/me', { headers: fixedSession(other)() });
      otherId = me.body.id;
    } finally {
      await app.stop();
    }
    await withDatabase(database, (sql) =>
      sql(
        `UPDATE openrouter_keys SET key_encrypted = (SELECT key_encrypted FROM openrouter_keys WHERE user_id <> $1 LIMIT 1) WHERE user_id = $1`,
        [otherId],
      ),
    );
    const again = await startApp({ inProcess: true, database, openRouter: fake, env: { ENCRYPTION_KEY: k3 } });
    try {
      const me = await again.request('GET', '/api/users/me', { headers: fixedSession(other)() });
      assert.ok(me.status >= 500 || me.body.openrouter_api_key !== openRouterKey, me.text);
      assert.ok(!me.text.includes(openRouterKey), "another user's key is never served");
    } finally {
      await again.stop();
    }
  });
});

describe('DATA_DIR', { skip: postgresAvailable() && 'the embedded database only' }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umb-datadir-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is created 0700, the generated key 0600, and no file under it is readable by others', async () => {
    const dataDir = path.join(root, 'fresh', 'data');
    const app = await startApp({ inProcess: true, env: { DATA_DIR: dataDir, ENCRYPTION_KEY: '' } });
    try {
      assert.equal(fs.statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(dataDir, 'encryption.key')).mode & 0o777, 0o600);
      const open = listTree(dataDir).filter((f) => (fs.lstatSync(f).mode & 0o077) !== 0);
      assert.deepEqual(open, []);
    } finally {
      await app.stop();
    }
  });

  it('tightens a DATA_DIR and database files an older release left readable', async () => {
    const dataDir = path.join(root, 'old');
    const env = { DATA_DIR: dataDir, ENCRYPTION_KEY: '' };
    await (await startApp({ inProcess: true, env })).stop();
    for (const f of [dataDir, ...listTree(dataDir)]) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
    const app = await startApp({ inProcess: true, env });
    try {
      assert.equal(fs.statSync(dataDir).mode & 0o777, 0o700);
      const open = listTree(path.join(dataDir, 'pglite')).filter((f) => (fs.lstatSync(f).mode & 0o077) !== 0);
      assert.deepEqual(open, []);
    } finally {
      await app.stop();
    }
  });
});

function listTree(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? [full, ...listTree(full)] : [full];
  });
}
