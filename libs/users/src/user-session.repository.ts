import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TableRepository, type UnitOfWork } from '#libs/database';

/** The `user_sessions` table: the Clerk session ids seen, each counted as one login. */
@Injectable()
export class UserSessionRepository extends TableRepository {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource);
  }

  async isKnown(sessionId: string, uow?: UnitOfWork): Promise<boolean> {
    const rows: unknown[] = await this.manager(uow).query(`SELECT 1 FROM user_sessions WHERE session_id = $1`, [
      sessionId,
    ]);
    return rows.length > 0;
  }

  /** Records a session; true when it was not known yet (this is its first request). */
  async insert(uow: UnitOfWork, sessionId: string, userId: string): Promise<boolean> {
    const inserted: unknown[] = await this.manager(uow).query(
      `INSERT INTO user_sessions (session_id, user_id) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
      [sessionId, userId],
    );
    return inserted.length > 0;
  }
}
