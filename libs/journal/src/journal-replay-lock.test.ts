import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { currentHost } from './journal-owner';

/** A process that replays the journals of `dir`, slowly, noting what it applied in a file of its own. */
const REPLAYER = `
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { Journal } = require(${JSON.stringify(join(__dirname, 'journal.js'))});
const dir = process.argv[1];
const quiet = { log() {}, warn() {}, error() {} };
const journal = new Journal(() => dir, { logger: quiet });
journal.channel({
  name: 'usage',
  encode: (n) => n,
  decode: (d) => d,
  replay: async (items) => {
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(join(dir, 'applied-' + process.pid + '.txt'), items.map((n) => n + '\\n').join(''));
  },
});
journal.replayOrphans().then((report) => process.stdout.write(JSON.stringify(report)));
`;

function replayer(dir: string): Promise<{ journals: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', REPLAYER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { journals: number }) : reject(new Error(`exit ${code}`)),
    );
  });
}

describe('Journal replay across processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umb-journal-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('two instances starting together replay a dead journal once between them', async () => {
    // The journal of a process that has exited.
    const deadPid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
    const file = join(dir, `${currentHost()}~${deadPid}~dead~000001.jnl`);
    writeFileSync(file, '');
    for (const n of [1, 2, 3]) appendFileSync(file, `${JSON.stringify({ p: n, c: 'usage', d: n })}\n`);

    const reports = await Promise.all([replayer(dir), replayer(dir)]);
    const applied = readdirSync(dir)
      .filter((f) => f.startsWith('applied-'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
    assert.deepEqual(applied.sort(), ['1', '2', '3'], 'each item applied once');
    assert.deepEqual(reports.map((r) => r.journals).sort(), [0, 1]);
    assert.equal(existsSync(file), false);
  });
});
