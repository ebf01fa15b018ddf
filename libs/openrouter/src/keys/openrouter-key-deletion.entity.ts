import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An upstream key that was replaced and must still be deleted at OpenRouter. */
@Entity({ name: 'openrouter_key_deletions' })
export class OpenRouterKeyDeletion {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'upstream_hash', type: 'text' }) upstreamHash: string;
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId: string | null;
  @Column({ type: 'text' }) reason: string;
  @Column({ type: 'integer', default: 0 }) attempts: number;
  @Column({ name: 'last_error_code', type: 'text', nullable: true }) lastErrorCode: string | null;
  @Column({ name: 'next_attempt_at', type: 'timestamptz' }) nextAttemptAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
