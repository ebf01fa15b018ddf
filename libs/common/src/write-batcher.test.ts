import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { BatchJournal, JournalMark, WriteBatcher } from './write-batcher';

const quiet = { error: () => undefined, warn: () => undefined } as unknown as Logger;

describe('WriteBatcher', () => {
  it('writes items added together in one batch, one write at a time', async () => {
    const batches: number[][] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const batcher = new WriteBatcher<number>(
      't',
      async (items) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((r) => setTimeout(r, 5));
        batches.push(items);
        concurrent--;
      },
      quiet,
    );
    for (let i = 0; i < 10; i++) batcher.add(i);
    await new Promise((r) => setImmediate(r));
    for (let i = 10; i < 20; i++) batcher.add(i);
    await batcher.drain();
    assert.deepEqual(
      batches.flat(),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(batches[0].length, 10);
    assert.equal(maxConcurrent, 1);
    assert.equal(batcher.pending, 0);
  });

  it('retries a failed batch, then gives up', async () => {
    let calls = 0;
    const batcher = new WriteBatcher<string>(
      't',
      async () => {
        calls++;
        throw new Error('db down');
      },
      quiet,
    );
    batcher.add('a');
    await batcher.drain();
    assert.equal(calls, 3);
    assert.equal(batcher.pending, 0);
  });

  it('drain() waits for a write that fails once and then succeeds', async () => {
    const written: string[] = [];
    let first = true;
    const batcher = new WriteBatcher<string>(
      't',
      async (items) => {
        if (first) {
          first = false;
          throw new Error('blip');
        }
        written.push(...items);
      },
      quiet,
    );
    batcher.add('a');
    batcher.add('b');
    await batcher.drain();
    assert.deepEqual(written, ['a', 'b']);
  });
});

describe('WriteBatcher.waitFor', () => {
  it('resolves once the item and everything before it is written', async () => {
    const written: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new WriteBatcher<number>(
      't',
      async (items) => {
        await gate;
        written.push(...items);
      },
      quiet,
    );
    const seqs = [batcher.add(1), batcher.add(2)];
    assert.equal(batcher.isDone(seqs[1]), false);
    const waited = batcher.waitFor(seqs[1]).then(() => [...written]);
    release();
    assert.deepEqual(await waited, [1, 2]);
    assert.equal(batcher.isDone(seqs[0]), true);
    await batcher.waitFor(seqs[0]);
  });
});

describe('WriteBatcher linger', () => {
  it('lingers to batch, and a reader waiting cuts the linger short', async () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number>('t', async (items) => void batches.push(items), quiet, {
      lingerMs: 60_000,
    });
    const a = batcher.add(1);
    batcher.add(2);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(batches, [], 'still lingering');
    await batcher.waitFor(a);
    assert.deepEqual(batches, [[1, 2]]);
    batcher.add(3);
    await batcher.drain();
    assert.deepEqual(batches, [[1, 2], [3]]);
  });

  it('writes at once when a batch is full', async () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number>('t', async (items) => void batches.push(items), quiet, {
      lingerMs: 60_000,
      maxBatch: 2,
    });
    batcher.add(1);
    batcher.add(2);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1, 2]]);
  });
});

describe('WriteBatcher with a journal', () => {
  /** A journal in memory: what was appended, checkpointed and carried, in order. */
  function memoryJournal() {
    const log: string[] = [];
    let position = 0;
    const journal: BatchJournal<string> = {
      append: (item) => {
        if (item.startsWith('skip')) return null;
        log.push(`append ${item}`);
        return ++position;
      },
      written: (p) => log.push(`written ${p}`),
      mark: (p) => ({ journal: 'j', channel: 'c', position: p }),
      carry: (items) => log.push(`carry ${items.join(',')}`),
    };
    return { log, journal };
  }

  it('journals each item before add() returns, and checkpoints each written batch at its last journaled item', async () => {
    const { log, journal } = memoryJournal();
    const marks: (JournalMark | null)[] = [];
    const batcher = new WriteBatcher<string>(
      't',
      async (items, mark) => {
        log.push(`write ${items.join(',')}`);
        marks.push(mark);
      },
      quiet,
      { journal },
    );
    batcher.add('a');
    assert.deepEqual(log, ['append a'], 'in the journal before anything is written');
    batcher.add('b');
    batcher.add('skip-c');
    await batcher.drain();
    assert.deepEqual(log, ['append a', 'append b', 'write a,b,skip-c', 'written 2']);
    assert.deepEqual(marks, [{ journal: 'j', channel: 'c', position: 2 }], 'the write is told its mark');
    batcher.add('skip-d');
    await batcher.drain();
    assert.equal(marks.at(-1), null, 'a batch with nothing journaled has no mark');
  });

  it('carries items it gives up on, so that the next start writes them', async () => {
    const { log, journal } = memoryJournal();
    let down = true;
    const batcher = new WriteBatcher<string>(
      't',
      async (items) => {
        if (down) throw new Error('db down');
        log.push(`write ${items.join(',')}`);
      },
      quiet,
      { journal },
    );
    batcher.add('a');
    await batcher.drain();
    down = false;
    batcher.add('b');
    await batcher.drain();
    assert.deepEqual(log, ['append a', 'carry a', 'append b', 'write b', 'written 2']);
  });
});
