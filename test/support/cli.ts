/** Runs the command line as an operator would: `node dist/apps/cli/src/main.js <command>` as a child process. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../../libs/database/src/embedded-postgres';
import { REPO_ROOT, TEST_ENCRYPTION_KEY, type TestDatabase } from './app';
import type { FakeOpenRouter } from './fake-openrouter';

const CLI = path.join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const INHERITED_VARS_TO_DROP =
  /^(DATABASE_URL|DATA_DIR|REDIS_URL|PORT|HOST|ENCRYPTION_KEY|LOG_LEVEL|CLERK_.*|OPENROUTER_.*)$/;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `cli` runs a command; `ok` expects exit 0; `fails` expects exit 1 with a one-line reason (the last line on
 * stderr; warnings may come before it). The database is read when a command runs (it is made in `before`).
 */
export function cliRunner(database: () => TestDatabase, fake: FakeOpenRouter) {
  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const env = {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_VARS_TO_DROP.test(name))),
        ...database().env,
        NODE_ENV: 'test',
        ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        OPENROUTER_BASE_URL: fake.baseUrl,
        OPENROUTER_PROVISIONING_API_KEY: fake.provisioningKey,
      };
      execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (((err as { code?: unknown }).code as number | null) ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      });
    });
  const ok = async (...args: string[]): Promise<CliResult> => {
    const res = await cli(...args);
    assert.equal(res.code, 0, `${args.join(' ')} exited ${res.code}:\n${res.stderr}`);
    return res;
  };
  const fails = async (pattern: RegExp, ...args: string[]): Promise<CliResult> => {
    const res = await cli(...args);
    assert.equal(res.code, 1, `${args.join(' ')} should fail: ${res.stdout}${res.stderr}`);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('error: ')).length, 1, res.stderr);
    assert.match(lines.at(-1)!, /^error: /, res.stderr);
    assert.match(lines.at(-1)!, pattern);
    return res;
  };
  return { cli, ok, fails };
}

/**
 * Serves an embedded test database from this process while a file's commands run, as a running server would: each
 * command then joins it on its socket instead of opening PGlite itself (seconds per command). PostgreSQL needs
 * nothing. `pause` stops serving while a server of the test's own takes the database, `resume` serves it again.
 */
export async function serveEmbeddedDatabase(database: TestDatabase) {
  let served: EmbeddedPostgres | undefined;
  const resume = async () => {
    if (database.kind === 'pglite' && !served) served = await EmbeddedPostgres.start(database.env.DATA_DIR);
  };
  const pause = async () => {
    await served?.stop();
    served = undefined;
  };
  await resume();
  return { pause, resume, close: pause };
}
