import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'tenants' })
export class Tenant {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) slug: string;
  /** Set when the tenant mirrors a Clerk organization. */
  @Column({ name: 'clerk_org_id', type: 'text', nullable: true }) clerkOrgId: string | null;
  /** Set for a user's personal tenant (one per user). */
  @Column({ name: 'personal_owner_id', type: 'uuid', nullable: true }) personalOwnerId: string | null;
  /** USD all the tenant's keys together may spend per `budgetPeriod`; null: no budget. */
  @Column({ name: 'budget_usd', type: 'numeric', precision: 20, scale: 6, nullable: true }) budgetUsd: string | null;
  @Column({ name: 'budget_period', type: 'text', default: 'month' }) budgetPeriod: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
