/** Self-tests of the in-process tier: the real app built in the test process, as the fast test files use it. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { startApp } from './app';
import { fixedSession, newClerkUser } from './users';

const SKIP = process.env.TEST_APP_MODE === 'process' && 'TEST_APP_MODE=process runs every app as a child process';

describe('startApp in process', { skip: SKIP }, () => {
  it('runs two apps at once, each with its own configuration, database and captured logs', async () => {
    const admin = newClerkUser();
    const asAdmin = fixedSession(admin);
    const [a, b] = await Promise.all([
      startApp({ inProcess: true, env: { PLATFORM_ADMIN_USER_IDS: admin.sub } }),
      startApp({ inProcess: true }),
    ]);
    try {
      assert.equal(a.pid, process.pid);
      // Each app reads the configuration it was given, not the test process's environment nor the other app's.
      const stats = await a.request('GET', '/api/admin/stats', { headers: asAdmin() });
      assert.equal(stats.status, 200, stats.text);
      assert.equal((await b.request('GET', '/api/admin/stats', { headers: asAdmin() })).status, 403);
      // Each has its own database.
      const onA = await a.request('GET', '/api/users/me', { headers: asAdmin() });
      const onB = await b.request('GET', '/api/users/me', { headers: asAdmin() });
      assert.equal(onA.status, 200, onA.text);
      assert.notEqual(onA.body.id, onB.body.id);
      // What the app logs is there to read, as a child's stdout would be.
      assert.match(await a.logsMatching(/"url":"\/api\/admin\/stats"/), /"url":"\/api\/admin\/stats"/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    for (const app of [a, b]) {
      if (app.database.kind === 'pglite') assert.equal(fs.existsSync(app.database.env.DATA_DIR), false);
    }
  });

  it('restarts on the same port and database, and refuses what needs a process', async () => {
    const user = newClerkUser();
    const session = fixedSession(user);
    const app = await startApp({ inProcess: true });
    try {
      const before = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(before.status, 200, before.text);
      const port = app.port;
      await app.restart();
      assert.equal(app.port, port);
      const after = await app.request('GET', '/api/users/me', { headers: session() });
      assert.equal(after.body.id, before.body.id);
      await assert.rejects(app.kill(), /needs a child process/);
    } finally {
      const status = await app.stop();
      assert.deepEqual(status, { code: 0, signal: null });
    }
    await assert.rejects(startApp({ inProcess: true, entry: __filename }), /needs a child process/);
  });
});
