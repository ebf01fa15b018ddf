import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { parseJournal } from './journal-format';
import { Journal, JournalChannelSpec } from './journal';
import { currentHost } from './journal-owner';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'umb-journal-'));
  dirs.push(dir);
  return dir;
}

/** A consumer that remembers what a replay applied. */
function consumer(name: string, applied: number[][] = []): JournalChannelSpec<number> & { applied: number[][] } {
  return {
    name,
    applied,
    encode: (n) => (n === 0 ? undefined : { n }),
    decode: (d) => (d as { n: number }).n,
    writeNow: true,
    replay: async (items) => {
      applied.push(items);
    },
  };
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return []; // a journal directory left empty is removed
  return readdirSync(dir).filter((f) => f.endsWith('.jnl'));
}

/** What a journal left for the next start, as a new process in the same directory replays it. */
async function replayIn(dir: string, ...names: string[]): Promise<Record<string, number[]>> {
  const next = new Journal(() => dir, { logger: quiet });
  const specs = names.map((n) => consumer(n));
  for (const s of specs) next.channel(s);
  await next.replayOrphans();
  return Object.fromEntries(specs.map((s) => [s.name, s.applied.flat()]));
}

describe('Journal', () => {
  it('appends one line per item, before anything is written, with increasing positions', () => {
    const dir = tempDir();
    const journal = new Journal(() => dir, { logger: quiet });
    const usage = journal.channel(consumer('usage'));
    assert.deepEqual(files(dir), [], 'nothing is created before the first item');
    assert.equal(usage.append(7), 1);
    assert.equal(usage.append(8), 2);
    assert.equal(usage.append(0), null, 'an item that counts for nothing is not kept');
    const [file] = files(dir);
    const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [
        { p: 1, c: 'usage', d: { n: 7 } },
        { p: 2, c: 'usage', d: { n: 8 } },
      ],
    );
    journal.finish(true);
  });

  it("writes a channel's items with the next item that is written at once, or by the next turn", async () => {
    const dir = tempDir();
    const journal = new Journal(() => dir, { logger: quiet });
    const quota = journal.channel({ ...consumer('quota'), writeNow: false });
    const usage = journal.channel(consumer('usage'));
    const text = () =>
      files(dir)
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('');
    quota.append(1);
    assert.equal(text(), '', 'held until the request records its usage');
    usage.append(2);
    assert.equal(text().split('\n').filter(Boolean).length, 2, 'both in one write');
    quota.append(3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(text().split('\n').filter(Boolean).length, 3, 'alone, by the next turn');
    journal.finish(true);
  });

  it('replays, in a new process, exactly what no checkpoint covers, per channel', async () => {
    const dir = tempDir();
    const dead = new Journal(() => dir, { logger: quiet });
    const usage = dead.channel(consumer('usage'));
    const quota = dead.channel(consumer('quota'));
    usage.append(1);
    quota.append(10);
    usage.append(2);
    quota.append(20);
    usage.written(3); // usage 1 and 2 are in the database; quota's are not
    usage.append(3);
    // The process is killed here: no finish().
    assert.deepEqual(await replayIn(dir, 'usage', 'quota'), { usage: [3], quota: [10, 20] });
    assert.deepEqual(files(dir), [], 'the replayed journal is removed');
    assert.deepEqual(await replayIn(dir, 'usage', 'quota'), { usage: [], quota: [] }, 'a second start replays nothing');
  });

  it('empties its file once everything in it is checkpointed, and leaves no file after a clean finish', () => {
    const dir = tempDir();
    const journal = new Journal(() => dir, { logger: quiet });
    const usage = journal.channel(consumer('usage'));
    usage.append(1);
    const p = usage.append(2)!;
    const [file] = files(dir);
    assert.ok(readFileSync(join(dir, file), 'utf8').length > 0);
    usage.written(p);
    assert.equal(readFileSync(join(dir, file), 'utf8'), '', 'truncated after the checkpoint');
    usage.append(3);
    journal.finish();
    assert.equal(files(dir).length, 1, 'an item still owed keeps the journal open');
    usage.written(4);
    journal.finish();
    assert.deepEqual(files(dir), [], 'nothing owed: removed');
  });

  it('replays carried items (given up on while running) although later items were checkpointed past them', async () => {
    const dir = tempDir();
    const dead = new Journal(() => dir, { logger: quiet });
    const usage = dead.channel(consumer('usage'));
    usage.append(1);
    usage.carry([1]); // the database refused item 1 too often
    const p = usage.append(2)!;
    usage.written(p);
    dead.finish(true);
    assert.equal(files(dir).length, 1, 'kept at exit: it owes the carried item');
    assert.deepEqual(await replayIn(dir, 'usage'), { usage: [1] });
    assert.deepEqual(files(dir), []);
  });

  it('ignores a line cut short by the kill', async () => {
    const dir = tempDir();
    const dead = new Journal(() => dir, { logger: quiet });
    const usage = dead.channel(consumer('usage'));
    usage.append(1);
    usage.append(2);
    const [file] = files(dir);
    appendFileSync(join(dir, file), '{"p":3,"c":"usage","d":{"n"');
    const next = new Journal(() => dir, { logger: quiet });
    const spec = consumer('usage');
    next.channel(spec);
    const report = await next.replayOrphans();
    assert.deepEqual(spec.applied.flat(), [1, 2]);
    assert.equal(report.torn, 1);
  });

  it('resumes a replay cut short without applying a channel twice', async () => {
    const dir = tempDir();
    const dead = new Journal(() => dir, { logger: quiet });
    dead.channel(consumer('usage')).append(1);
    dead.channel(consumer('quota')).append(2);
    // The first replayer applies usage, then dies while applying quota.
    const first = new Journal(() => dir, { logger: quiet });
    const usage = consumer('usage');
    first.channel(usage);
    first.channel({
      ...consumer('quota'),
      replay: () => Promise.reject(new Error('killed')),
    });
    const report = await first.replayOrphans();
    assert.equal(report.failed, 1, 'the failure is reported, the start goes on');
    assert.equal(files(dir).length, 1, 'and the journal is kept');
    assert.deepEqual(usage.applied.flat(), [1]);
    assert.deepEqual(await replayIn(dir, 'usage', 'quota'), { usage: [], quota: [2] });
  });

  it('keeps the journal of a live process, and one of a channel nobody consumes', async () => {
    const dir = tempDir();
    // A journal owned by a live process of this host (pid 1 always runs), and one with an unknown channel.
    writeFileSync(join(dir, `${currentHost()}~1~abcd~000001.jnl`), '{"p":1,"c":"usage","d":{"n":5}}\n');
    const dead = new Journal(() => dir, { logger: quiet });
    dead.channel(consumer('mystery')).append(9);
    assert.deepEqual(await replayIn(dir, 'usage'), { usage: [] });
    assert.equal(files(dir).length, 2);
  });

  it('moves to a new segment when one is full and deletes the old one once it is checkpointed', async () => {
    const dir = tempDir();
    const journal = new Journal(() => dir, { logger: quiet, segmentBytes: 60 });
    const usage = journal.channel(consumer('usage'));
    const quota = journal.channel(consumer('quota'));
    usage.append(1);
    quota.append(2); // the first segment is full
    usage.append(3);
    assert.equal(files(dir).length, 2);
    usage.written(3);
    assert.equal(files(dir).length, 2, 'the first segment still owes quota item 2');
    quota.written(2);
    assert.equal(files(dir).length, 1, 'the first segment is gone');
    usage.append(4);
    assert.deepEqual(await replayIn(dir, 'usage', 'quota'), { usage: [4], quota: [] });
  });

  it('counts checkpoints of every segment, and a carried item whatever they say', () => {
    const lines = parseJournal([
      '{"p":1,"c":"usage","d":1}\n{"p":2,"c":"quota","d":2}\n{"cp":"usage","to":1}\n',
      '{"p":3,"c":"usage","d":3}\n{"cp":"quota","to":2}\n{"p":4,"c":"quota","d":4,"k":1}\n{"cp":"quota","to":9}\n',
    ]);
    assert.deepEqual(
      lines.owed.map((e) => e.position),
      [3, 4],
      'checkpoints of any segment count; a carried item is owed whatever the checkpoint',
    );
    assert.equal(lines.lastPosition, 4);
  });
});

describe('Journal replay with a consumer that records marks', () => {
  it("skips what the consumer's own mark covers, whatever the journal file says, and records the replay's mark", async () => {
    const dir = tempDir();
    const dead = new Journal(() => dir, { logger: quiet });
    const quota = dead.channel(consumer('quota'));
    for (const n of [1, 2, 3, 4]) quota.append(n);
    // The store counted 1 and 2 (mark 2) but the process died before the journal's checkpoint.
    const marks = new Map<string, number>([[quota.mark(2).journal, 2]]);
    const spec = consumer('quota');
    const recorded: { journal: string; position: number }[] = [];
    const next = new Journal(() => dir, { logger: quiet });
    next.channel({
      ...spec,
      appliedUpTo: async (journal) => marks.get(journal) ?? 0,
      replay: async (items, mark) => {
        spec.applied.push(items);
        recorded.push({ journal: mark.journal, position: mark.position });
      },
    });
    await next.replayOrphans();
    assert.deepEqual(spec.applied.flat(), [3, 4]);
    assert.deepEqual(recorded, [{ journal: `${quota.mark(2).journal}#replay`, position: 4 }]);
  });
});
