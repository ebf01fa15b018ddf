import { SealedSecretError, type SecretBox } from './secret-box';

/** What re-sealing one column did. */
export interface ResealCount {
  /** `table.column` */
  column: string;
  /** Values found not sealed with the current key (or not bound to their row). */
  stale: number;
  resealed: number;
  /** Values that open with neither key: left as they are and reported. */
  failed: number;
}

/** A column of encrypted secrets, re-sealed by its owning module (the only one that writes it). */
export interface SealedColumn {
  readonly column: string;
  /** Re-seals every value not sealed with the current key; safe to run concurrently with writers. */
  reseal(): Promise<ResealCount>;
}

export interface StaleValue {
  /** Orders the scan: values come in increasing cursor order. */
  cursor: string;
  stored: string;
  aad: string;
}

/**
 * The loop every owner's `reseal()` shares: reads stale values in batches after a cursor (so that a
 * value that cannot be opened is passed, not read again), opens each with either key and writes it
 * back sealed with the current key — conditionally on the stored value, so that a concurrent change
 * of the row wins.
 */
export async function resealStaleValues(
  box: SecretBox,
  column: string,
  next: (afterCursor: string | null, limit: number) => Promise<StaleValue[]>,
  write: (value: StaleValue, sealed: string) => Promise<boolean>,
): Promise<ResealCount> {
  const count: ResealCount = { column, stale: 0, resealed: 0, failed: 0 };
  const limit = 200;
  let cursor: string | null = null;
  for (;;) {
    const batch = await next(cursor, limit);
    for (const value of batch) {
      count.stale++;
      let plaintext: string;
      try {
        plaintext = box.open(value.stored, value.aad);
      } catch (err) {
        if (!(err instanceof SealedSecretError)) throw err;
        count.failed++;
        continue;
      }
      if (await write(value, box.seal(plaintext, value.aad))) count.resealed++;
    }
    if (batch.length < limit) return count;
    cursor = batch[batch.length - 1].cursor;
  }
}
