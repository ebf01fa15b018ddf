/**
 * The command line, run as an operator would: `node dist/apps/cli/src/main.js <command>` as a child process,
 * here for tenants and their API keys on a database of its own (beside a running server:
 * cli-beside-server.test.ts). Users, OpenRouter keys and reconciliation:
 * cli-openrouter.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, startApp, type TestDatabase } from './support/app';
import { cliRunner, serveEmbeddedDatabase } from './support/cli';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newClerkUser, sessionHeaders } from './support/users';

describe('command line: tenants and API keys', () => {
  const fake = new FakeOpenRouter();
  let database: TestDatabase;
  const slug = `acme-${randomUUID().slice(0, 6)}`;
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@cli.test`;

  const { cli, ok, fails } = cliRunner(() => database, fake);
  let served: Awaited<ReturnType<typeof serveEmbeddedDatabase>>;

  before(async () => {
    await fake.start();
    database = await createTestDatabase();
    served = await serveEmbeddedDatabase(database);
  });

  after(async () => {
    await served?.close();
    await database?.drop();
    await fake.stop();
  });

  it('prints usage with --help (exit 0) and refuses unknown commands and missing arguments (exit 1), without a database', async () => {
    const help = await ok('--help');
    for (const command of [
      'tenants:create',
      'tenants:list',
      'api-keys:create',
      'api-keys:list',
      'api-keys:revoke',
      'users:list',
      'users:refresh-openrouter-key',
      'openrouter:reconcile',
      'stats',
      'audit:list',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), command);
    }
    assert.match(help.stdout, /Examples:/);

    const unknown = await cli('tenants:destroy');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command 'tenants:destroy'/);
    const missing = await cli('api-keys:list');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing required argument 'tenant'/);
  });

  let tenantId: string;
  let ownerId: string;
  let keyId: string;
  let plaintextKey: string;

  it('tenants:create creates a tenant for an owner (an unknown email is invited), and explains failures in one line', async () => {
    const res = await ok('tenants:create', 'Acme Corp', '--owner', ownerEmail, '--slug', slug, '--json');
    const tenant = JSON.parse(res.stdout);
    assert.deepEqual(
      [tenant.name, tenant.slug, tenant.owner.email, tenant.owner.pending],
      ['Acme Corp', slug, ownerEmail, true],
    );
    tenantId = tenant.id;
    ownerId = tenant.owner.id;
    await fails(/slug.*already in use.*slug_taken/, 'tenants:create', 'Other', '--owner', ownerEmail, '--slug', slug);
  });

  it('tenants:list lists tenants with members and keys', async () => {
    const table = await ok('tenants:list');
    assert.match(table.stdout, /^ID\s+SLUG\s+NAME\s+MEMBERS/m);
    assert.match(table.stdout, new RegExp(`^${tenantId}\\s+${slug}\\s+Acme Corp\\s+1\\s+0`, 'm'));
  });

  it('api-keys:create needs --user, a member who has signed in; refuses others in one line', async () => {
    await fails(/--user is required/, 'api-keys:create', slug, '--name', 'x');
    await fails(/has never signed in/, 'api-keys:create', slug, '--name', 'x', '--user', ownerEmail);
  });

  it('api-keys:create prints the key once; api-keys:list never shows it', async () => {
    // The invited owner signs in once (the server on this database, then stopped: one process at a time).
    await served.pause();
    const app = await startApp({ database, openRouter: fake });
    try {
      const owner = newClerkUser({ email: ownerEmail });
      assert.equal((await app.request('GET', '/api/users/me', { headers: sessionHeaders(owner) })).status, 200);
    } finally {
      await app.stop();
      await served.resume();
    }
    const res = await ok(
      'api-keys:create',
      slug,
      '--name',
      'ci pipeline',
      '--user',
      ownerEmail,
      '--scopes',
      'chat,usage:read',
      '--rate-limit',
      '120',
    );
    const keys = res.stdout.match(/umk_[A-Za-z0-9_-]{20,}/g) ?? [];
    assert.equal(keys.length, 1, `the key appears exactly once:\n${res.stdout}`);
    plaintextKey = keys[0];
    assert.match(res.stdout, /shown once/);
    assert.match(res.stdout, /scopes:\s+chat, usage:read/);
    assert.match(res.stdout, new RegExp(`acts as:\\s+${ownerId}`), 'acts as the named member');
    keyId = /id:\s+([0-9a-f-]{36})/.exec(res.stdout)![1];

    const json = JSON.parse(
      (
        await ok(
          'api-keys:create',
          tenantId,
          '--name',
          'machine',
          '--user',
          ownerId,
          '--scopes',
          'usage:read',
          '--json',
        )
      ).stdout,
    );
    assert.match(json.key, /^umk_/);
    assert.deepEqual([json.user_id, json.scopes, json.tenant_id], [ownerId, ['usage:read'], tenantId]);

    await fails(
      /unknown tenant "no-such-tenant"/,
      'api-keys:create',
      'no-such-tenant',
      '--name',
      'x',
      '--user',
      ownerId,
    );

    const list = await ok('api-keys:list', slug);
    assert.match(list.stdout, /^ID\s+NAME\s+PREFIX\s+STATUS/m);
    assert.match(
      list.stdout,
      new RegExp(`^${keyId}\\s+ci pipeline\\s+umk_\\S+\\s+active\\s+chat,usage:read\\s+120`, 'm'),
    );
    assert.match(list.stdout, /machine/);
    assert.ok(!list.stdout.includes(plaintextKey) && !list.stdout.includes(json.key), 'keys are never listed');
  });

  it('api-keys:revoke revokes a key of that tenant', async () => {
    await fails(/unknown API key/, 'api-keys:revoke', slug, randomUUID());
    const res = await ok('api-keys:revoke', slug, keyId);
    assert.match(res.stdout, /^Revoked API key umk_/);
    const all = JSON.parse((await ok('api-keys:list', slug, '--all', '--json')).stdout);
    assert.equal(all.length, 2);
    assert.ok(all.every((k: Record<string, unknown>) => !('key' in k)));
    assert.equal(all.find((k: { id: string }) => k.id === keyId).status, 'revoked');
  });

  it('writes each change to the audit trail with actor type cli, and no key', async () => {
    const res = await ok('audit:list', '--tenant', slug, '--json');
    const events: { action: string; actor_type: string; actor_id: string; tenant_id: string; target_id: string }[] =
      JSON.parse(res.stdout);
    assert.deepEqual(events.map((e) => e.action).sort(), [
      'api_key.created',
      'api_key.created',
      'api_key.revoked',
      'tenant.created',
    ]);
    assert.ok(events.every((e) => e.actor_type === 'cli' && /^.+@.+$/.test(e.actor_id) && e.tenant_id === tenantId));
    assert.ok(!res.stdout.includes(plaintextKey));
  });

  it('refuses to open the embedded database while a process that does not serve it has it open', async (t) => {
    if (database.kind !== 'pglite') return t.skip('PostgreSQL serves many processes');
    // Nobody serves it now; what PGlite leaves in its directory while a process has it open.
    await served.pause();
    const pidFile = path.join(database.env.DATA_DIR, 'pglite', 'postmaster.pid');
    fs.writeFileSync(pidFile, '-42\n');
    try {
      await fails(/embedded database under .* is held by a process that does not serve it/, 'stats');
    } finally {
      fs.rmSync(pidFile, { force: true });
    }
  });
});
