import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { Journal, JournalChannelSpec } from './journal';
import { describeReplay, JournalReplayScheduler } from './journal-replay.scheduler';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'umb-journal-retry-'));
  dirs.push(dir);
  return dir;
}

function journalFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jnl')) : [];
}

/** A consumer whose store is down for its first `failures` replays. */
function flakyConsumer(failures: number) {
  const applied: number[] = [];
  let calls = 0;
  const spec: JournalChannelSpec<number> = {
    name: 'usage',
    encode: (n) => ({ n }),
    decode: (d) => (d as { n: number }).n,
    writeNow: true,
    replay: async (items) => {
      if (calls++ < failures) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
      applied.push(...items);
    },
  };
  return { spec, applied };
}

/** A journal with items no checkpoint covers, left by a process killed in `dir` (this process's pid: dead). */
function deadJournal(dir: string, items: number[]): void {
  const dead = new Journal(() => dir, { logger: quiet });
  const usage = dead.channel(flakyConsumer(0).spec);
  for (const n of items) usage.append(n);
}

describe('JournalReplayScheduler', () => {
  it('tries a failed replay again while running, and applies the dead journal once', async () => {
    const dir = tempDir();
    deadJournal(dir, [1, 2, 3]);
    const live = new Journal(() => dir, { logger: quiet });
    const consumer = flakyConsumer(1);
    live.channel(consumer.spec);

    const first = await live.replayOrphans(); // at start-up: the database is down
    assert.equal(first.failed, 1);
    assert.deepEqual(consumer.applied, []);
    assert.equal(journalFiles(dir).length, 1, 'the dead journal is kept');

    const scheduler = new JournalReplayScheduler(live);
    await scheduler.tick();
    assert.deepEqual(consumer.applied, [1, 2, 3]);
    assert.deepEqual(journalFiles(dir), [], 'replayed, then removed');
    await scheduler.tick();
    assert.deepEqual(consumer.applied, [1, 2, 3], 'never twice');
  });

  it('looks on its own every interval once the app has started, and stops at shutdown', async () => {
    const dir = tempDir();
    deadJournal(dir, [7]);
    const live = new Journal(() => dir, { logger: quiet });
    const consumer = flakyConsumer(2);
    live.channel(consumer.spec);
    const scheduler = new JournalReplayScheduler(live, 5);
    scheduler.onApplicationBootstrap();
    try {
      while (consumer.applied.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await scheduler.beforeApplicationShutdown();
    }
    assert.deepEqual(consumer.applied, [7]);
  });

  it('says what a replay did, and nothing when there was nothing to do', () => {
    assert.equal(describeReplay({ journals: 0, applied: {}, torn: 0, failed: 0 }), null);
    assert.equal(
      describeReplay({ journals: 1, applied: { usage: 3, quota: 2 }, torn: 1, failed: 1 }),
      'Replayed 1 journal(s) of stopped instances: 3 usage, 2 quota; 1 line(s) cut short by the kill skipped; ' +
        '1 kept for a later try (see the error above)',
    );
  });
});
