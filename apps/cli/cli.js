#!/usr/bin/env node
'use strict';
/**
 * `npm run cli -- <command>`: starts the compiled command line, or says in one line what to do when there is
 * none yet (a fresh clone before its first build) instead of Node's module-not-found stack.
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const entry = path.join(root, 'dist', 'apps', 'cli', 'src', 'main.js');

if (!fs.existsSync(entry)) {
  process.stderr.write(
    'error: the command line is not built yet: run `npm run build` (or `npm start` once), then try again\n',
  );
  process.exit(1);
}
try {
  require(entry);
} catch (err) {
  // A build interrupted half-way leaves some libraries missing.
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(path.join(root, 'dist'))) {
    process.stderr.write('error: the build under dist/ is incomplete: run `npm run build` again\n');
    process.exit(1);
  }
  throw err;
}
