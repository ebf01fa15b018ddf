/**
 * The README's first steps, run as written: the server started as `npm start` would (NODE_ENV=development, no
 * Clerk variable), then the README's shell block (dev:token, /api/users/me, a tenant, a key, the gateway) in bash,
 * with only API pointed at the test's server and OpenRouter at the fake.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, REPO_ROOT, startApp, type TestApp } from './support/app';
import { FakeOpenRouter } from './support/fake-openrouter';

/** The shell block between the README's first-steps markers. */
function firstSteps(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- first-steps -->\s*```bash\n([\s\S]*?)```\s*<!-- \/first-steps -->/.exec(readme)?.[1];
  assert.ok(block, 'README.md has a first-steps block');
  return block;
}

describe("README's first steps", () => {
  const fake = new FakeOpenRouter();
  let app: TestApp;
  let dataDir: string;
  let ownsDataDir = false;

  before(async () => {
    await fake.start();
    const database = await createTestDatabase();
    ownsDataDir = !database.env.DATA_DIR;
    dataDir = database.env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'umb-readme-'));
    // A child process, as `npm start` runs it; development and no Clerk variable, as a fresh clone has.
    app = await startApp({
      database,
      openRouter: fake,
      env: { NODE_ENV: 'development', CLERK_JWT_KEY: '', DATA_DIR: dataDir },
    });
  });
  after(async () => {
    await app?.stop();
    await app?.database.drop();
    if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    await fake.stop();
  });

  it('sign in with dev:token, see /me, create a tenant and a key, call the gateway', async () => {
    assert.match(app.logs(), /development sign-in is on/);
    const script = firstSteps().replace(/^API=.*$/m, `API=${app.baseUrl}`);
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: app.env.ENCRYPTION_KEY,
    };
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'bash',
        ['-euo', 'pipefail', '-c', script],
        { cwd: REPO_ROOT, env, timeout: 180_000 },
        (err, out, errOut) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      ),
    );
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    // Three JSON answers in order: /me, the tenant, the completion (the key went into KEY).
    const answers = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, any>);
    const [me, tenant, completion] = answers;
    assert.equal(me.email, 'you@example.com');
    assert.equal(me.first_name, 'You');
    assert.equal(me.openrouter_key_status, 'active');
    assert.equal(tenant.slug, 'acme');
    assert.equal(tenant.role, 'owner');
    assert.ok(completion.choices?.[0]?.message, JSON.stringify(completion));
    assert.equal(answers.length, 3);
    const chat = fake.requests.filter((r) => r.route === 'chat');
    assert.equal(chat.length, 1, 'the completion went to OpenRouter');
  });
});
