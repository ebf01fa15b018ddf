import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type UserStatus = 'active' | 'pending' | 'deactivated';

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** Null for a pending user (invited by email, not signed in yet). */
  @Column({ name: 'clerk_user_id', type: 'text', nullable: true }) clerkUserId: string | null;
  @Column({ type: 'text', nullable: true }) email: string | null;
  @Column({ name: 'first_name', type: 'text', nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'text', nullable: true }) lastName: string | null;
  @Column({ name: 'image_url', type: 'text', nullable: true }) imageUrl: string | null;
  @Column({ type: 'text', default: 'active' }) status: UserStatus;
  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true }) lastLoginAt: Date | null;
  @Column({ name: 'login_count', type: 'integer', default: 0 }) loginCount: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
