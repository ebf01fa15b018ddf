/**
 * The command line while the server runs, on the embedded database too: the server serves PGlite on a Unix
 * socket inside DATA_DIR (never on a TCP port), and the command line joins it there. Tenants are named by id or
 * slug, on the command line and in the HTTP routes alike.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, startApp, type TestApp, type TestDatabase } from './support/app';
import { cliRunner } from './support/cli';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newClerkUser, sessionHeaders } from './support/users';

/** TCP ports a process listens on: its socket inodes (/proc/<pid>/fd) matched with /proc/net/tcp{,6} in LISTEN. */
function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    for (const line of fs.readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [, local, , state, , , , , , inode] = cols;
      if (state === '0A' && inodes.has(inode)) ports.add(parseInt(local.split(':')[1], 16));
    }
  }
  return [...ports];
}

describe('command line beside the running server', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  let app: TestApp;
  const { ok, fails } = cliRunner(() => database, fake);
  const owner = newClerkUser({ email: `owner-${randomUUID().slice(0, 8)}@beside.test` });
  const slug = `beside-${randomUUID().slice(0, 6)}`;

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    // A process of its own: what listens is the server's alone.
    app = await startApp({ database, openRouter: fake });
    assert.equal((await app.request('GET', '/api/users/me', { headers: sessionHeaders(owner) })).status, 200);
  });
  after(async () => {
    await app?.stop();
    await database?.drop();
    await fake.stop();
  });

  it('the embedded database listens on a private Unix socket in DATA_DIR, on no TCP port', async (t) => {
    if (database.kind !== 'pglite') return t.skip('PostgreSQL is the operator’s own server');
    assert.deepEqual(listeningTcpPorts(app.pid!), [app.port], 'the HTTP port only');
    const socket = fs.statSync(path.join(database.env.DATA_DIR, '.s.PGSQL.5432'));
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o077, 0, 'no access for group or others');
  });

  it('stats works while the server runs', async () => {
    const res = await ok('stats', '--json');
    assert.ok(JSON.parse(res.stdout).users >= 1);
  });

  it('a tenant created by the command line is named by its slug in the HTTP routes', async () => {
    await ok('tenants:create', 'Beside Corp', '--slug', slug, '--owner', owner.email!);
    const bySlug = await app.request('GET', `/api/tenants/${slug}`, { headers: sessionHeaders(owner) });
    assert.equal(bySlug.status, 200, bySlug.text);
    assert.equal(bySlug.body.slug, slug);
    const byId = await app.request('GET', `/api/tenants/${bySlug.body.id}/members`, { headers: sessionHeaders(owner) });
    assert.equal(byId.status, 200);
    const keys = await app.request('GET', `/api/tenants/${slug}/api-keys`, { headers: sessionHeaders(owner) });
    assert.equal(keys.status, 200, keys.text);
    const stranger = newClerkUser();
    const hidden = await app.request('GET', `/api/tenants/${slug}`, { headers: sessionHeaders(stranger) });
    assert.equal(hidden.status, 404, 'a non-member cannot tell a slug exists');
  });

  it("the help's api-keys:create example works as written; a bad scope is named once", async () => {
    const help = (await ok('--help')).stdout;
    const example = /npm run cli -- (api-keys:create acme-corp .*)$/m.exec(help)?.[1];
    assert.ok(example, help);
    const args = example.replace('acme-corp', slug).replace('ops@acme.test', owner.email!).split(' ');
    const res = await ok(...args);
    assert.match(res.stdout, /^umk_/m);
    const bad = await fails(
      /scopes/,
      'api-keys:create',
      slug,
      '--name',
      'x',
      '--user',
      owner.email!,
      '--scopes',
      'chat,nope',
    );
    const line = bad.stderr.trim().split('\n').at(-1)!;
    assert.equal(line.split('--scopes').length - 1, 1, `--scopes named once: ${line}`);
  });
});
