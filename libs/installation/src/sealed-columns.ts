import { Injectable } from '@nestjs/common';
import type { SealedColumn } from '#libs/common';

/**
 * The columns of encrypted secrets, each registered by its owning module (in its constructor, so that
 * all are known before start-up checks run). Re-sealing goes through the owners; this lib never
 * reads their tables.
 */
@Injectable()
export class SealedColumns {
  private readonly columns = new Map<string, SealedColumn>();

  register(column: SealedColumn): void {
    this.columns.set(column.column, column);
  }

  all(): SealedColumn[] {
    return [...this.columns.values()];
  }
}
