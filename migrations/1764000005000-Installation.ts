import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deployment's identity: one row, made here (so that the id is generated exactly once, under the
 * migration lock), holding the installation id that upstream key names carry and the fingerprint of
 * the encryption key the database's secrets are sealed with (set at the first start-up).
 */
export class Installation1764000005000 implements MigrationInterface {
  name = 'Installation1764000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE installation (
      singleton boolean NOT NULL DEFAULT true,
      installation_id uuid NOT NULL DEFAULT gen_random_uuid(),
      key_fingerprint text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_installation PRIMARY KEY (singleton),
      CONSTRAINT ck_installation_singleton CHECK (singleton)
    )`);
    await q.query(`INSERT INTO installation (singleton) VALUES (true)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS installation`);
  }
}
