import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { JournalMark } from '#libs/common';
import { TableRepository, type UnitOfWork } from '#libs/database';

/** `journal_marks`: how far each crash journal's channel has been counted (written with the counters it accounts for). */
@Injectable()
export class JournalMarkRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  /** Moves each channel's position forward to its mark (never back). */
  async advance(uow: UnitOfWork, marks: JournalMark[]): Promise<void> {
    await this.manager(uow).query(
      `INSERT INTO journal_marks AS j (journal, channel, position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (journal, channel) DO UPDATE SET position = greatest(j.position, excluded.position), updated_at = now()`,
      [marks.map((x) => x.journal), marks.map((x) => x.channel), marks.map((x) => x.position)],
    );
  }

  /** The channel's position (0: none recorded). */
  async position(journal: string, channel: string, uow?: UnitOfWork): Promise<number> {
    const rows: { position: string }[] = await this.manager(uow).query(
      `SELECT position FROM journal_marks WHERE journal = $1 AND channel = $2`,
      [journal, channel],
    );
    return rows.length > 0 ? Number(rows[0].position) : 0;
  }
}
