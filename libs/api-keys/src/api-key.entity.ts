import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, ValueTransformer } from 'typeorm';
import type { ApiKeyScope } from './scopes';

export const QUOTA_PERIODS = ['day', 'month', 'total'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

/** bigint columns come back from pg as strings; token counts stay well within 2^53. */
const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** numeric columns come back from pg as strings; budgets are USD with six decimals. */
export const numericAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

@Entity({ name: 'api_keys' })
export class ApiKey {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  /** The member the key acts as. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId: string | null;
  @Column({ type: 'text' }) name: string;
  /** SHA-256 (hex) of the plaintext, which is never stored. */
  @Column({ name: 'key_hash', type: 'text' }) keyHash: string;
  @Column({ type: 'text' }) prefix: string;
  @Column({ type: 'text', array: true }) scopes: ApiKeyScope[];
  @Column({ name: 'rate_limit_per_minute', type: 'integer' }) rateLimitPerMinute: number;
  @Column({ name: 'token_quota', type: 'bigint', nullable: true, transformer: bigintAsNumber }) tokenQuota:
    number | null;
  @Column({ name: 'quota_period', type: 'text', nullable: true }) quotaPeriod: QuotaPeriod | null;
  /** USD the key may spend per `budgetPeriod`; null: no budget. */
  @Column({
    name: 'budget_usd',
    type: 'numeric',
    precision: 20,
    scale: 6,
    nullable: true,
    transformer: numericAsNumber,
  })
  budgetUsd: number | null;
  @Column({ name: 'budget_period', type: 'text', default: 'month' }) budgetPeriod: QuotaPeriod;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive: boolean;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  /** When the key stops working; in the future while a rotated key is in its grace period. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
  /** The key this one replaced by rotation. */
  @Column({ name: 'rotated_from_id', type: 'uuid', nullable: true }) rotatedFromId: string | null;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
