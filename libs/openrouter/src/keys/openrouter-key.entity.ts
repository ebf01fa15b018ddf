import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { BudgetPeriod } from '../budget/budget-period';

const usd = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

export type OpenRouterKeyStatus = 'none' | 'active' | 'provisioning_failed' | 'disabled';

/** The user's current OpenRouter key (encrypted), its provisioning state and the cross-instance lease. */
@Entity({ name: 'openrouter_keys' })
export class OpenRouterKey {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ name: 'key_encrypted', type: 'text', nullable: true }) keyEncrypted: string | null;
  /** OpenRouter's id for the key (`data.hash`), used to delete it. Not a secret. */
  @Column({ name: 'upstream_hash', type: 'text', nullable: true }) upstreamHash: string | null;
  @Column({ type: 'text', nullable: true }) label: string | null;
  @Column({ type: 'text', nullable: true }) name: string | null;
  @Column({
    name: 'spending_limit',
    type: 'numeric',
    precision: 12,
    scale: 4,
    nullable: true,
    transformer: usd,
  })
  spendingLimit: number | null;
  /** The user's own budget per period (USD), set by a platform admin; null: OPENROUTER_KEY_LIMIT. */
  @Column({ name: 'budget_usd', type: 'numeric', precision: 12, scale: 4, nullable: true, transformer: usd })
  budgetUsd: number | null;
  /** The period the counters below and the current key's `limit_reset` are for. */
  @Column({ name: 'budget_period', type: 'text', default: 'none' }) budgetPeriod: BudgetPeriod;
  /** Start of that period (null for `none`). */
  @Column({ name: 'period_started_at', type: 'timestamptz', nullable: true }) periodStartedAt: Date | null;
  /** What the user's replaced keys spent in that period (USD), as OpenRouter reported it when each was replaced. */
  @Column({
    name: 'replaced_spend_usd',
    type: 'numeric',
    precision: 14,
    scale: 6,
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string | null) => (v === null ? 0 : Number(v)) },
  })
  replacedSpendUsd: number;
  @Column({ type: 'text', default: 'none' }) status: OpenRouterKeyStatus;
  @Column({ name: 'last_error_code', type: 'text', nullable: true }) lastErrorCode: string | null;
  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true }) lastAttemptAt: Date | null;
  @Column({ name: 'auto_renewed', type: 'boolean', default: false }) autoRenewed: boolean;
  @Column({ name: 'renewal_count', type: 'integer', default: 0 }) renewalCount: number;
  @Column({ name: 'last_renewal_at', type: 'timestamptz', nullable: true }) lastRenewalAt: Date | null;
  @Column({ name: 'key_created_at', type: 'timestamptz', nullable: true }) keyCreatedAt: Date | null;
  @Column({ name: 'lease_owner', type: 'text', nullable: true }) leaseOwner: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
