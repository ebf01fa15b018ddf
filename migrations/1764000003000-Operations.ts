import { MigrationInterface, QueryRunner } from 'typeorm';

/** Operations: Clerk webhook deliveries (each svix-id applied once) and leases for background jobs. */
export class Operations1764000003000 implements MigrationInterface {
  name = 'Operations1764000003000';

  async up(q: QueryRunner): Promise<void> {
    // One row per applied Svix message, inserted in the transaction that applies it: a redelivery
    // finds its row and changes nothing.
    await q.query(`CREATE TABLE clerk_webhook_deliveries (
      svix_id text NOT NULL,
      event_type text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_clerk_webhook_deliveries PRIMARY KEY (svix_id)
    )`);
    await q.query(`CREATE INDEX ix_clerk_webhook_deliveries_applied_at ON clerk_webhook_deliveries (applied_at)`);

    // A named lease per background job (e.g. OpenRouter reconciliation), so that one instance, server
    // or command line, runs it at a time. A row rather than an advisory lock: the embedded database
    // has a single connection, which a held session lock would take away from the job itself.
    await q.query(`CREATE TABLE job_leases (
      name text NOT NULL,
      owner text,
      lease_until timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_job_leases PRIMARY KEY (name)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS job_leases`);
    await q.query(`DROP TABLE IF EXISTS clerk_webhook_deliveries`);
  }
}
