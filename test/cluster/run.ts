/**
 * `npm run test:cluster`: the multi-instance and fault suites (dist/test/cluster), through the project's test
 * runner. They need a real PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL); without them the run says
 * so and ends cleanly instead of failing on "no test ran".
 *
 *   node dist/test/cluster/run.js [filter...]     e.g. multi-instance, faults-openrouter
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/app';
import { CLUSTER_SKIP } from './support';

if (CLUSTER_SKIP) {
  console.log(
    `Cluster suite skipped: ${CLUSTER_SKIP}\n  e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres TEST_REDIS_URL=redis://127.0.0.1:6379 npm run test:cluster`,
  );
  console.log('0 passed, 0 failed');
  if (process.env.TEST_COUNTS_FILE)
    fs.writeFileSync(process.env.TEST_COUNTS_FILE, JSON.stringify({ passed: 0, failed: 0 }) + '\n');
} else {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'run-tests.js'), ...process.argv.slice(2)], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEST_GLOB_DIR: 'cluster' },
    stdio: 'inherit',
  });
  child.on('close', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
}
