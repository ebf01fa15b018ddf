import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A user's own key for another provider (e.g. GLM), encrypted because it is used again. */
@Entity({ name: 'user_provider_keys' })
export class UserProviderKey {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId: string;
  @PrimaryColumn({ type: 'text' }) provider: string;
  @Column({ name: 'key_encrypted', type: 'text' }) keyEncrypted: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
