import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SecretBox } from '#libs/common';
import { InstallationRepository } from './installation.repository';
import { SecretsResealer } from './secrets-resealer';

const MISMATCH =
  "Invalid configuration:\n  ENCRYPTION_KEY: does not match the key this database's secrets are sealed with " +
  '(the database records its fingerprint). Start with that key as ENCRYPTION_KEY, or give it as ' +
  'ENCRYPTION_KEY_PREVIOUS to rotate to a new ENCRYPTION_KEY';
const UNREADABLE =
  'Invalid configuration:\n  ENCRYPTION_KEY: opens none of the secrets stored in this database; start with the key they were sealed with';

/**
 * Who this deployment is: its installation id (upstream key names carry it) and the encryption key its
 * secrets are sealed with. Checked once at start-up, before anything is served: another key stops
 * start-up naming ENCRYPTION_KEY, instead of answering 500 on every secret later.
 */
@Injectable()
export class DeploymentIdentity implements OnModuleInit {
  private readonly logger = new Logger(DeploymentIdentity.name);
  private id: string | null = null;

  constructor(
    private readonly installation: InstallationRepository,
    private readonly box: SecretBox,
    private readonly resealer: SecretsResealer,
  ) {}

  get installationId(): string {
    if (!this.id) throw new Error('DeploymentIdentity used before start-up');
    return this.id;
  }

  async onModuleInit(): Promise<void> {
    let row = await this.installation.read();
    if (row.keyFingerprint === null) {
      // First start-up since the fingerprint exists: values stored before are re-sealed (bound to their
      // rows) now, which also proves the key opens them.
      const report = await this.resealer.resealAll();
      if (report.failed > 0 && report.resealed === 0) throw new Error(UNREADABLE);
      await this.installation.recordFirstFingerprint(this.box.fingerprint);
      row = await this.installation.read();
    }
    const recorded = row.keyFingerprint;
    if (recorded !== this.box.fingerprint && recorded !== this.box.previousFingerprint) throw new Error(MISMATCH);
    if (recorded === this.box.previousFingerprint)
      this.logger.warn(
        'Rotating the encryption key: secrets sealed with ENCRYPTION_KEY_PREVIOUS are read with it until re-sealed (npm run cli -- secrets:reseal)',
      );
    this.id = row.installationId;
  }
}
