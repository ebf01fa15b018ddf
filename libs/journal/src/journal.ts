import { Logger } from '@nestjs/common';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  futimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  appendFileSync,
  writeSync,
  rmSync,
  rmdirSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BatchJournal, JournalMark } from '#libs/common';
import { checkpointLine, entryLine, JournalEntry, parseJournal } from './journal-format';
import { isAbandoned, JournalOwner, newOwner, parseSegmentName, segmentName } from './journal-owner';

/** A segment this large is closed and a new one begun; a closed segment is deleted once all it holds is durable. */
const SEGMENT_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 60_000;
/** Items handed to a channel's replay at once. */
const REPLAY_BATCH = 500;
const LOCK_FILE = 'replay.lock';

/** What kind of items a channel keeps, and how the next start applies those a dead process left. */
export interface JournalChannelSpec<T> {
  name: string;
  /** The item as JSON data (dates as epoch milliseconds: cheaper); undefined when there is nothing to keep. */
  encode(item: T): unknown;
  /**
   * Appending an item writes it at once, with whatever was appended before it in this turn: one `write` per
   * answered request. Set it on the item a request records last, before its answer leaves (the usage record);
   * items of other channels are written with it, or by the next turn of the event loop at the latest.
   */
  writeNow?: boolean;
  decode(data: unknown): T;
  /**
   * Applies a dead process's items durably (idempotently where the consumer can). `mark` is where these
   * items end in the dead journal (under a replay's own journal name): a consumer that records marks
   * records it with them, so that a replay cut short resumes where it was.
   */
  replay(items: T[], mark: JournalMark): Promise<void>;
  /**
   * For a consumer that records marks with what it writes (see BatchJournal.mark): the position it has
   * for `journal` (0: none). What it covers is not replayed, whatever the journal file says.
   */
  appliedUpTo?(journal: string): Promise<number>;
  /**
   * For a consumer that keeps written items in memory a while (counters flushed later): resolves once what
   * was written so far is durable, the moment it may be checkpointed. Absent: written is durable.
   */
  durable?(): Promise<void>;
}

interface Segment {
  readonly path: string;
  bytes: number;
  /** Each channel's highest position in this segment. */
  readonly last: Map<string, number>;
  carried: boolean;
}

export interface ReplayReport {
  /** Journals of dead processes replayed and removed. */
  journals: number;
  /** Items applied per channel. */
  applied: Record<string, number>;
  /** Lines cut short by a kill, skipped. */
  torn: number;
  /** Journals whose replay failed (kept for a later try). */
  failed: number;
}

/**
 * This process's journal: what is counted in memory (usage records, quota and spend settlements) is
 * appended here, with one `write` to the page cache, before the answer leaves, and checkpointed once its
 * consumer has made it durable. A process killed at any moment leaves what it owed in its journal; the next
 * start replays the journals of dead processes, each item exactly once (see `replayOrphans`).
 *
 * Not fsynced per request: the page cache survives the process (a kill, a crash, the OOM killer), only an
 * operating-system crash or power loss loses the last seconds the kernel had not yet written back.
 */
export class Journal {
  private readonly logger: Logger;
  private readonly specs = new Map<string, JournalChannelSpec<unknown>>();
  private readonly checkpoints = new Map<string, number>();
  private owner: JournalOwner | null = null;
  private dir: string | null = null;
  private fd: number | null = null;
  private segments: Segment[] = [];
  private nextSegment = 1;
  private position = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private failing = false;
  /** Lines appended and not yet written (see JournalChannelSpec.writeNow). */
  private buffer = '';
  private writeScheduled = false;
  private readonly onExit = () => this.finish(true);

  private readonly segmentBytes: number;

  /** `directory` is asked once, at the first append: null turns the journal off. */
  constructor(
    private readonly directory: () => string | null,
    options: { logger?: Logger; segmentBytes?: number } = {},
  ) {
    this.logger = options.logger ?? new Logger(Journal.name);
    this.segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
  }

  /** A channel for one consumer's items, to hand to its WriteBatcher. */
  channel<T>(spec: JournalChannelSpec<T>): BatchJournal<T> {
    if (this.specs.has(spec.name)) throw new Error(`Journal channel ${spec.name} registered twice`);
    this.specs.set(spec.name, spec as JournalChannelSpec<unknown>);
    return {
      append: (item) => {
        const data = spec.encode(item);
        return data === undefined ? null : this.append(spec.name, data, false, spec.writeNow === true);
      },
      written: (position) => {
        const durable = spec.durable?.();
        if (!durable) this.checkpoint(spec.name, position);
        else void durable.then(() => this.checkpoint(spec.name, position)).catch(() => undefined);
      },
      mark: (position) => ({ journal: this.owner!.id, channel: spec.name, position }),
      carry: (items) => {
        for (const item of items) {
          const data = spec.encode(item);
          if (data !== undefined) this.append(spec.name, data, true, true);
        }
      },
    };
  }

  /** Whether some entry is not yet durable by its channel's checkpoint (or was carried). */
  get owed(): boolean {
    return this.segments.some((s) => !this.covered(s));
  }

  /**
   * Removes the journal's files when everything in them is durable: a clean shutdown leaves no journal.
   * What is still owed stays; at process exit (`final`) the journal is closed whatever it holds, and what
   * it still owes is left for the next start.
   */
  finish(final = false): void {
    if (this.fd === null) return;
    this.writeBuffered();
    const owed = this.owed;
    if (owed && !final) return;
    closeSync(this.fd);
    this.fd = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    process.off('exit', this.onExit);
    if (owed) this.logger.warn(`Journal ${this.owner!.id}: items not yet written are kept for the next start`);
    else {
      for (const s of this.segments) rmSync(s.path, { force: true });
      removeIfEmpty(this.dir!);
    }
    this.segments = [];
  }

  /**
   * Applies what the journals of dead processes (same database, same DATA_DIR) still owe, through each
   * channel's `replay`, then removes them. Under a lock file, so that two instances starting together never
   * replay the same journal. Exactly once: after each channel's items are applied a checkpoint is appended
   * to the dead journal, so that a replay cut short is resumed, not repeated.
   */
  async replayOrphans(): Promise<ReplayReport> {
    const report: ReplayReport = { journals: 0, applied: {}, torn: 0, failed: 0 };
    const dir = this.directory();
    if (!dir || !existsSync(dir)) return report;
    if (!this.lock(dir)) {
      this.logger.log('Another instance is replaying journals: skipped');
      return report;
    }
    try {
      for (const [id, files] of this.orphans(dir)) {
        try {
          if (await this.replayOne(id, files, report)) report.journals++;
        } catch (err) {
          // The database or Redis is down: the journal stays, for a later try (JournalReplayScheduler) or the next start.
          report.failed++;
          this.logger.error(
            `Replaying journal ${id} failed (${(err as { code?: string; message?: string })?.code ?? (err as Error)?.message ?? 'error'}); it is kept for a later try`,
          );
        }
      }
    } finally {
      unlinkSync(join(dir, LOCK_FILE));
      removeIfEmpty(dir);
    }
    return report;
  }

  /** Applies one dead journal, channel by channel, then removes it; false when it must be kept. */
  private async replayOne(id: string, files: string[], report: ReplayReport): Promise<boolean> {
    const parsed = parseJournal(files.map((f) => readFileSync(f, 'utf8')));
    report.torn += parsed.torn;
    const last = files[files.length - 1];
    let complete = true;
    for (const [channel, entries] of groupByChannel(parsed.owed)) {
      const spec = this.specs.get(channel);
      if (!spec) {
        this.logger.error(`Journal ${id}: no consumer for "${channel}" items; the journal is kept`);
        complete = false;
        continue;
      }
      // The consumer's own marks: of the dead process, and of an earlier replay cut short.
      const replayJournal = `${id}#replay`;
      const live = (await spec.appliedUpTo?.(id)) ?? 0;
      const replayed = (await spec.appliedUpTo?.(replayJournal)) ?? 0;
      const todo = entries.filter((e) => e.position > replayed && (e.carried || e.position > live));
      for (let i = 0; i < todo.length; i += REPLAY_BATCH) {
        const chunk = todo.slice(i, i + REPLAY_BATCH);
        await spec.replay(
          chunk.map((e) => spec.decode(e.data)),
          { journal: replayJournal, channel, position: chunk[chunk.length - 1].position },
        );
      }
      appendFileSync(last, checkpointLine(channel, parsed.lastPosition, true));
      report.applied[channel] = (report.applied[channel] ?? 0) + todo.length;
    }
    if (!complete) return false;
    for (const f of files) unlinkSync(f);
    return true;
  }

  private append(channel: string, data: unknown, carried: boolean, now: boolean): number | null {
    if (this.fd === null && !this.open()) return null;
    const position = ++this.position;
    const line = entryLine(position, channel, data, carried);
    this.buffer += line;
    const segment = this.segments[this.segments.length - 1];
    segment.bytes += line.length;
    segment.last.set(channel, position);
    if (carried) segment.carried = true;
    if (now) this.writeBuffered();
    else if (!this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(() => {
        this.writeScheduled = false;
        this.writeBuffered();
      });
    }
    if (segment.bytes >= this.segmentBytes) {
      this.writeBuffered();
      this.rotate();
    }
    return position;
  }

  /** One `write` of the lines appended since the last. */
  private writeBuffered(): void {
    if (this.buffer === '' || this.fd === null) return;
    const text = this.buffer;
    this.buffer = '';
    this.write(text);
  }

  private checkpoint(channel: string, upTo: number): void {
    if (upTo <= (this.checkpoints.get(channel) ?? 0)) return;
    this.checkpoints.set(channel, upTo);
    if (this.fd === null) return;
    this.writeBuffered(); // entries before the checkpoint that covers them
    // Closed segments wholly durable go; the current one is emptied when wholly durable, or told the checkpoint.
    while (this.segments.length > 1 && this.covered(this.segments[0]))
      rmSync(this.segments.shift()!.path, { force: true });
    const current = this.segments[this.segments.length - 1];
    if (this.covered(current)) {
      if (current.bytes === 0) return;
      ftruncateSync(this.fd, 0);
      current.bytes = 0;
      current.last.clear();
    } else {
      const line = checkpointLine(channel, upTo);
      if (this.write(line)) current.bytes += line.length;
    }
  }

  private covered(segment: Segment): boolean {
    if (segment.carried) return false;
    for (const [channel, position] of segment.last) if ((this.checkpoints.get(channel) ?? 0) < position) return false;
    return true;
  }

  private open(): boolean {
    if (this.failing) return false;
    try {
      const dir = this.dir ?? this.directory();
      if (!dir) {
        this.failing = true; // no journal here (no DATA_DIR identity): counted in memory only
        return false;
      }
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.dir = dir;
      this.owner ??= newOwner();
      this.openSegment();
      process.on('exit', this.onExit);
      this.heartbeat = setInterval(() => this.touch(), HEARTBEAT_MS).unref();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private openSegment(): void {
    const path = join(this.dir!, segmentName(this.owner!, this.nextSegment++));
    this.fd = openSync(path, 'a', 0o600);
    this.segments.push({ path, bytes: 0, last: new Map(), carried: false });
  }

  private rotate(): void {
    try {
      closeSync(this.fd!);
      this.fd = null;
      this.openSegment();
    } catch (err) {
      this.fail(err);
    }
  }

  private write(line: string): boolean {
    try {
      writeSync(this.fd!, line);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** An idle journal is touched now and then, so that an instance on another host can tell it is alive. */
  private touch(): void {
    if (this.fd === null) return;
    const now = new Date();
    try {
      futimesSync(this.fd, now, now);
    } catch {
      // Only a hint to other hosts.
    }
  }

  /** The disk refuses writes: counting goes on in memory as without a journal; said once, loudly. */
  private fail(err: unknown): void {
    if (!this.failing)
      this.logger.error(
        `Journal unavailable (${(err as NodeJS.ErrnoException)?.code ?? 'error'}): a crash now would lose what is not yet written`,
      );
    this.failing = true;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // Already unusable.
      }
      this.fd = null;
    }
  }

  /** Journals of dead processes, each with its files in segment order. */
  private orphans(dir: string): Map<string, string[]> {
    const byOwner = new Map<
      string,
      { owner: JournalOwner; files: { path: string; segment: number; mtime: number }[] }
    >();
    for (const name of readdirSync(dir)) {
      const parsed = parseSegmentName(name);
      if (!parsed || parsed.owner.id === this.owner?.id) continue;
      const path = join(dir, name);
      const group = byOwner.get(parsed.owner.id) ?? { owner: parsed.owner, files: [] };
      group.files.push({ path, segment: parsed.segment, mtime: statSync(path).mtimeMs });
      byOwner.set(parsed.owner.id, group);
    }
    const orphans = new Map<string, string[]>();
    for (const [id, { owner, files }] of byOwner) {
      if (!isAbandoned(owner, Math.max(...files.map((f) => f.mtime)))) continue;
      files.sort((a, b) => a.segment - b.segment);
      orphans.set(
        id,
        files.map((f) => f.path),
      );
    }
    return orphans;
  }

  /** Takes the replay lock, or takes it over from a dead holder; false when a live instance holds it. */
  private lock(dir: string): boolean {
    const path = join(dir, LOCK_FILE);
    const me = JSON.stringify({ host: newOwner().host, pid: process.pid });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, me, { flag: 'wx', mode: 0o600 });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let raw = '';
      let holder: { host: string; pid: number } | null = null;
      let touched = 0;
      try {
        raw = readFileSync(path, 'utf8');
        holder = JSON.parse(raw) as { host: string; pid: number };
        touched = statSync(path).mtimeMs;
      } catch {
        // Half-written by a holder killed at once, or just removed: treat as abandoned.
      }
      if (holder && !isAbandoned(holder, touched)) return false;
      try {
        // Read again just before: an instance that took the stale lock a moment ago keeps it.
        if (readFileSync(path, 'utf8') !== raw) continue;
        unlinkSync(path);
      } catch {
        // Removed meanwhile by its holder: try again.
      }
    }
    return false;
  }
}

/** The directory of a database nobody writes to any more goes too (tests make many). */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (another instance's journal, the replay lock): kept.
  }
}

function groupByChannel(entries: JournalEntry[]): Map<string, JournalEntry[]> {
  const groups = new Map<string, JournalEntry[]>();
  for (const e of entries) {
    const group = groups.get(e.channel) ?? [];
    group.push(e);
    groups.set(e.channel, group);
  }
  return groups;
}
