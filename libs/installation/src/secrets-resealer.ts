import { Injectable, Logger } from '@nestjs/common';
import { ResealCount, SecretBox } from '#libs/common';
import { InstallationRepository } from './installation.repository';
import { SealedColumns } from './sealed-columns';

export interface ResealReport {
  columns: ResealCount[];
  stale: number;
  resealed: number;
  failed: number;
  /** True when every value is now sealed with ENCRYPTION_KEY and the database records its fingerprint. */
  fingerprint_current: boolean;
}

/**
 * Re-seals every encrypted secret not sealed with the current key (legacy values without associated
 * data, values sealed with ENCRYPTION_KEY_PREVIOUS), then, when none is left that could not be opened,
 * moves the database's key fingerprint to the current key: from then on the previous key can go.
 */
@Injectable()
export class SecretsResealer {
  private readonly logger = new Logger(SecretsResealer.name);

  constructor(
    private readonly columns: SealedColumns,
    private readonly box: SecretBox,
    private readonly installation: InstallationRepository,
  ) {}

  async resealAll(): Promise<ResealReport> {
    const columns: ResealCount[] = [];
    for (const column of this.columns.all()) columns.push(await column.reseal());
    const sum = (k: 'stale' | 'resealed' | 'failed') => columns.reduce((n, c) => n + c[k], 0);
    const report: ResealReport = {
      columns,
      stale: sum('stale'),
      resealed: sum('resealed'),
      failed: sum('failed'),
      fingerprint_current: false,
    };
    if (report.failed === 0) {
      await this.installation.moveFingerprint(this.box.previousFingerprint, this.box.fingerprint);
    }
    report.fingerprint_current = (await this.installation.read()).keyFingerprint === this.box.fingerprint;
    if (report.stale > 0)
      this.logger.log(
        `Re-sealed ${report.resealed} of ${report.stale} secrets with the current encryption key (${report.failed} could not be opened)`,
      );
    if (report.failed > 0)
      this.logger.warn(
        `${report.failed} secrets open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS; the key fingerprint stays`,
      );
    return report;
  }
}
