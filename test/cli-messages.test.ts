/**
 * What the command line says when it cannot run: an unbuilt clone, a database that does not exist, a bad option
 * value; each one line naming the cause once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, postgresAvailable, REPO_ROOT, type TestDatabase } from './support/app';
import { cliRunner } from './support/cli';
import { FakeOpenRouter } from './support/fake-openrouter';

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('command line messages', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  const { cli } = cliRunner(() => database, fake);

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    await fake.stop();
  });

  it('an unbuilt clone prints one line telling to build, not a stack', async () => {
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'umb-clone-'));
    try {
      fs.mkdirSync(path.join(clone, 'apps', 'cli'), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, 'apps', 'cli', 'cli.js'), path.join(clone, 'apps', 'cli', 'cli.js'));
      const res = await run(path.join(clone, 'apps', 'cli', 'cli.js'), ['stats']);
      assert.equal(res.code, 1);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.match(res.stderr, /^error: the command line is not built yet: run `npm run build`/);
    } finally {
      fs.rmSync(clone, { recursive: true, force: true });
    }
  });

  it('the launcher runs the built command line', async () => {
    const res = await run(path.join(REPO_ROOT, 'apps', 'cli', 'cli.js'), ['--help']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Usage: npm run cli --/);
  });

  it('says which database does not exist (PostgreSQL 3D000)', async (t) => {
    if (!postgresAvailable()) return t.skip('needs a PostgreSQL server (TEST_DATABASE_URL)');
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const name = `no_such_db_${randomUUID().slice(0, 8)}`;
    url.pathname = `/${name}`;
    const res = await run(path.join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'), ['stats'], {
      DATABASE_URL: url.toString(),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    assert.equal(res.code, 1, res.stdout);
    const last = res.stderr.trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^error: the database "${name}" does not exist on ${url.hostname}:`));
    if (url.password) assert.ok(!res.stderr.includes(url.password));
  });

  it('names a bad option once', async () => {
    for (const [command, option] of [
      ['audit:list', '--limit'],
      ['openrouter:reconcile', '--grace-seconds'],
    ]) {
      const res = await cli(command, option, 'many');
      assert.equal(res.code, 1, res.stdout);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('error: '));
      assert.equal(errors.length, 1, res.stderr);
      assert.match(errors[0], /argument 'many' is invalid\. Expected a whole number/);
      assert.equal(errors[0].split(option).length - 1, 1, `${option} named once: ${errors[0]}`);
    }
  });
});
