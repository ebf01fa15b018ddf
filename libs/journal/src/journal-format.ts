/**
 * The journal's lines: one JSON object per line, appended by one process.
 * - an entry: `{"p": position, "c": channel, "d": data}`, `"k": 1` when carried (given up on by the
 *   running process, so owed to the next start whatever the checkpoints say);
 * - a checkpoint: `{"cp": channel, "to": position}`: the channel's entries up to `position` are durable
 *   (carried ones excepted); `"all": 1` when a replay wrote it, carried ones included.
 */
export interface JournalEntry {
  position: number;
  channel: string;
  data: unknown;
  carried: boolean;
}

export function entryLine(position: number, channel: string, data: unknown, carried: boolean): string {
  return `${JSON.stringify(carried ? { p: position, c: channel, d: data, k: 1 } : { p: position, c: channel, d: data })}\n`;
}

export function checkpointLine(channel: string, upTo: number, all = false): string {
  return `${JSON.stringify(all ? { cp: channel, to: upTo, all: 1 } : { cp: channel, to: upTo })}\n`;
}

export interface ParsedJournal {
  /** Entries still owed to their channel, in position order. */
  owed: JournalEntry[];
  /** The highest position of any entry (0 when none). */
  lastPosition: number;
  /** Lines that did not parse: the last line of a write cut short by the kill. */
  torn: number;
}

/**
 * What a journal (its files' texts, oldest first) still owes: each channel's entries after its checkpoint,
 * and carried entries not yet replayed. A line that does not parse is skipped and counted.
 */
export function parseJournal(texts: string[]): ParsedJournal {
  const entries: JournalEntry[] = [];
  const live = new Map<string, number>();
  const replayed = new Map<string, number>();
  let torn = 0;
  let lastPosition = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const parsed = parseLine(line);
      if (!parsed) {
        torn++;
        continue;
      }
      if ('cp' in parsed) {
        const marks = parsed.all ? replayed : live;
        marks.set(parsed.cp, Math.max(marks.get(parsed.cp) ?? 0, parsed.to));
        continue;
      }
      entries.push(parsed.entry);
      lastPosition = Math.max(lastPosition, parsed.entry.position);
    }
  }
  const owed = entries.filter(
    (e) => e.position > (replayed.get(e.channel) ?? 0) && (e.carried || e.position > (live.get(e.channel) ?? 0)),
  );
  owed.sort((a, b) => a.position - b.position);
  return { owed, lastPosition, torn };
}

function parseLine(line: string): { entry: JournalEntry } | { cp: string; to: number; all: boolean } | null {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const o = json as Record<string, unknown>;
  if (typeof o.cp === 'string' && Number.isSafeInteger(o.to)) return { cp: o.cp, to: o.to as number, all: o.all === 1 };
  if (typeof o.c === 'string' && Number.isSafeInteger(o.p) && 'd' in o)
    return { entry: { position: o.p as number, channel: o.c, data: o.d, carried: o.k === 1 } };
  return null;
}
