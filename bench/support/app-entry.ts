/**
 * Launches the API (dist/apps/api/src/main.js) with its stdout sent to a file (APP_LOG_FILE) instead of the pipe
 * the harness reads. In the benchmark and soak, every request log line would otherwise be read, decoded and kept
 * by the load generator's own process, costing it CPU and memory on a 2-core machine; the app still pays its full
 * logging cost (pino serialising and writing each line), which is what the figures must include.
 *
 * File descriptor 1 is replaced before anything touches process.stdout: closing it and opening the file reuses
 * the lowest free descriptor, 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// "{pid}" in the name gives each instance of a cluster (which share one environment) a file of its own.
const target = process.env.APP_LOG_FILE?.replace('{pid}', String(process.pid));
if (target) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.closeSync(1);
  const fd = fs.openSync(target, 'a');
  if (fd !== 1) {
    // Should not happen on Linux; fall back to the inherited stdout rather than losing the logs.
    fs.closeSync(fd);
  }
}

/**
 * APP_CPU_PROFILE=file: samples the app's CPU from the first SIGUSR2 (sent once start-up is over, so that module
 * loading does not drown the request path) until it exits (the harness stops it with SIGTERM, main.ts then calls
 * process.exit), and writes a .cpuprofile as `node --cpu-prof` would (NODE_OPTIONS does not allow that flag).
 * An in-thread inspector session answers synchronously, so the profile can be taken in the 'exit' handler.
 */
const profileFile = process.env.APP_CPU_PROFILE;
if (profileFile) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const session = new inspector.Session();
  let started = false;
  process.on('SIGUSR2', () => {
    if (started) return;
    started = true;
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 250 });
    session.post('Profiler.start');
  });
  process.on('exit', () => {
    if (!started) return;
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(profileFile, JSON.stringify(result.profile));
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the hooks above are installed
require('../../apps/api/src/main.js');
