import type { JournalChannelSpec } from '#libs/journal';
import { UsageRecord } from './usage-record';

/** A usage record with the id it is written under: chosen when recorded, so that a replay can tell it was written. */
export type LedgerRecord = UsageRecord & { id: string };

/** Usage records in the crash journal: a record is JSON with its date as ISO text; replay is the idempotent insert. */
export function usageJournal(insert: (records: LedgerRecord[]) => Promise<void>): JournalChannelSpec<LedgerRecord> {
  return {
    name: 'usage',
    encode: (record) => record,
    decode: (data) => {
      const record = data as LedgerRecord & { createdAt: string };
      return { ...record, createdAt: new Date(record.createdAt) };
    },
    replay: insert,
  };
}
