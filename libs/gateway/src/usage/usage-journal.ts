import type { JournalChannelSpec } from '#libs/journal';
import { UsageRecord } from './usage-record';

/** A usage record with the id it is written under: chosen when recorded, so that a replay can tell it was written. */
export type LedgerRecord = UsageRecord & { id: string };

/**
 * Usage records in the crash journal: a record is JSON with its date in epoch milliseconds. Recorded last
 * before a request's answer, it writes the journal at once (with the request's settlement). Replay is the
 * idempotent insert.
 */
export function usageJournal(insert: (records: LedgerRecord[]) => Promise<void>): JournalChannelSpec<LedgerRecord> {
  return {
    name: 'usage',
    encode: (record) => ({ ...record, createdAt: record.createdAt.getTime() }),
    decode: (data) => {
      const record = data as LedgerRecord & { createdAt: number };
      return { ...record, createdAt: new Date(record.createdAt) };
    },
    writeNow: true,
    replay: insert,
  };
}
