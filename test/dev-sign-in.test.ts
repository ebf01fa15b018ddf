/**
 * Development sign-in: with NODE_ENV=development and no Clerk variable the server makes a signing key under
 * DATA_DIR and accepts the session tokens `dev:token` prints, through the Clerk verifier and login hook;
 * in production, or beside any Clerk variable, such tokens are refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEnv } from 'node:util';
import { signDevelopmentSessionToken } from '#libs/clerk';
import { AppConfig, DEVELOPMENT_SIGNING_KEY_FILE, loadOrCreateDevelopmentSigningKey } from '#libs/config';
import { startupSummaryLines } from '../apps/api/src/bootstrap/startup-summary';
import { createTestDatabase, REPO_ROOT, startApp, TEST_ENCRYPTION_KEY, type TestApp } from './support/app';
import { publicKeyPem } from './support/clerk-tokens';
import { FakeOpenRouter } from './support/fake-openrouter';

const CLI = path.join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const KEPT = /^(PATH|HOME|TMPDIR|LANG)$/;

/** The command line with exactly `env` (and PATH): a developer's shell without Clerk variables. */
function cli(env: Record<string, string>, ...args: string[]) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => KEPT.test(name)));
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...base, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('development sign-in', () => {
  const fake = new FakeOpenRouter();
  let dataDir: string;
  let app: TestApp;
  /** What the command line sees: no Clerk variable at all, the server's DATA_DIR. */
  let devEnv: Record<string, string>;

  before(async () => {
    await fake.start();
    const database = await createTestDatabase();
    dataDir = database.env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'umb-dev-'));
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      database,
      env: { NODE_ENV: 'development', CLERK_JWT_KEY: '', DATA_DIR: dataDir },
    });
    devEnv = { NODE_ENV: 'development', DATA_DIR: dataDir, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY };
  });
  after(async () => {
    await app?.stop();
    await app?.database.drop();
    await fake.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says so in the start-up summary', () => {
    const on = startupSummaryLines(new AppConfig({ ...devEnv }), { embedded: true }).join('\n');
    assert.match(on, /development sign-in is on/);
    assert.doesNotMatch(on, /Clerk sign-in: set/, 'not listed as unconfigured');
    const off = startupSummaryLines(new AppConfig({ ...devEnv, NODE_ENV: 'test' }), { embedded: true }).join('\n');
    assert.doesNotMatch(off, /development sign-in/);
    assert.match(off, /Clerk sign-in: set CLERK_JWT_KEY or CLERK_SECRET_KEY/);
  });

  it('dev:token prints a token that signs the user in through the login hook, a new session each time', async () => {
    const first = await cli(devEnv, 'dev:token', '--email', 'Dev@Example.com', '--first-name', 'Ada');
    assert.equal(first.code, 0, first.stderr);
    const token = first.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'only the token on stdout');
    const keyFile = path.join(dataDir, DEVELOPMENT_SIGNING_KEY_FILE);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the private key is readable by its owner only');

    const me = await app.request('GET', '/api/users/me', { headers: bearer(token) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.email, 'dev@example.com');
    assert.equal(me.body.first_name, 'Ada');
    assert.match(me.body.clerk_user_id, /^user_/);
    assert.equal(me.body.tenant.role, 'owner', 'the personal tenant');
    assert.equal(me.body.login_count, 1);
    assert.equal(me.body.openrouter_key_status, 'active', 'the login hook provisioned a key');

    const second = (await cli(devEnv, 'dev:token', '--email', 'dev@example.com')).stdout.trim();
    assert.notEqual(second, token);
    const again = await app.request('GET', '/api/users/me', { headers: bearer(second) });
    assert.equal(again.body.id, me.body.id, 'one email is one user');
    assert.equal(again.body.login_count, 2, 'a new session is a new login');

    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, number>;
    assert.equal(payload.exp - payload.iat, 3600, 'valid one hour');
  });

  it('--org and --role give the organization claims the Clerk parser reads', async () => {
    const res = await cli(devEnv, 'dev:token', '--email', 'lead@example.com', '--org', 'acme-dev', '--role', 'admin');
    assert.equal(res.code, 0, res.stderr);
    const me = await app.request('GET', '/api/users/me', { headers: bearer(res.stdout.trim()) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.tenant.slug, 'acme-dev');
    assert.equal(me.body.tenant.role, 'admin');
  });

  it('dev:token refuses bad options in one line', async () => {
    for (const [args, pattern] of [
      [['--org', 'acme'], /--email is required/],
      [['--email', 'nobody'], /--email: "nobody" is not an email address/],
      [['--email', 'a@b.c', '--org', 'acme', '--role', 'owner'], /--role: "owner" is not admin or member/],
    ] as [string[], RegExp][]) {
      const res = await cli(devEnv, 'dev:token', ...args);
      assert.equal(res.code, 1);
      assert.match(res.stderr.trim(), pattern);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    }
  });

  it('the command line prints no token in production or beside a Clerk variable', async () => {
    for (const env of [
      { ...devEnv, NODE_ENV: 'production' },
      { ...devEnv, CLERK_SECRET_KEY: 'sk_test_abc' },
    ]) {
      const res = await cli(env, 'dev:token', '--email', 'a@example.com');
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^error: development sign-in is off: /);
    }
  });
});

describe('development sign-in is refused', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'umb-dev-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('is off unless NODE_ENV=development and no Clerk variable is set', () => {
    const on = (env: Record<string, string>) => new AppConfig({ DATA_DIR: dataDir, ...env }).developmentSignIn;
    assert.equal(on({ NODE_ENV: 'development' }), true);
    assert.equal(on({}), true, 'development is the default');
    assert.equal(on({ NODE_ENV: 'development', CLERK_SECRET_KEY: '' }), true, 'an empty variable is unset');
    assert.equal(on({ NODE_ENV: 'production', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY }), false);
    assert.equal(on({ NODE_ENV: 'test' }), false);
    // A newcomer's `cp .env.example .env` keeps it on (empty Clerk variables, CLERK_API_URL at its default).
    const example = parseEnv(fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8')) as Record<string, string>;
    assert.equal(on({ ...example, DATA_DIR: dataDir }), true);
    assert.equal(on({ NODE_ENV: 'development', CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_abc' }), false);
    assert.equal(on({ NODE_ENV: 'development', CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000' }), false);
  });

  for (const [name, env] of [
    ['in production', { NODE_ENV: 'production', CLERK_JWT_KEY: '' }],
    ['when CLERK_JWT_KEY is set', { NODE_ENV: 'development' }],
    [
      'when only CLERK_AUTHORIZED_PARTIES is set',
      {
        NODE_ENV: 'development',
        CLERK_JWT_KEY: '',
        CLERK_AUTHORIZED_PARTIES: 'http://localhost:3000',
      },
    ],
  ] as [string, Record<string, string>][]) {
    it(`${name}: 401 invalid_token`, async () => {
      const database = await createTestDatabase();
      const dir = database.env.DATA_DIR ?? dataDir;
      // DATA_DIR holds a development key, as a developer's would: the server must still not use it.
      const key = loadOrCreateDevelopmentSigningKey(dir);
      const app = await startApp({ inProcess: true, database, env: { ...env, DATA_DIR: dir } });
      try {
        assert.equal(app.env.CLERK_JWT_KEY, env.CLERK_JWT_KEY ?? publicKeyPem);
        const token = signDevelopmentSessionToken(key.privateKeyPem, { email: 'intruder@example.com' });
        const res = await app.request('GET', '/api/users/me', { headers: bearer(token) });
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.code, 'invalid_token');
      } finally {
        await app.stop();
        await database.drop();
      }
    });
  }
});
