import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '#libs/config';
import { DeploymentIdentity } from '#libs/installation';
import { Journal } from './journal';

/** Closes the journal at shutdown (removing it when nothing is owed); process exit is the last resort. */
@Injectable()
class JournalCloser implements OnApplicationShutdown {
  constructor(private readonly journal: Journal) {}
  onApplicationShutdown(): void {
    this.journal.finish();
  }
}

/**
 * The process's crash journal, under `DATA_DIR/journal/<installation id>`: the installation id keeps the
 * journals of different databases apart when they share a DATA_DIR (servers on PostgreSQL, tests).
 */
@Module({
  providers: [
    {
      provide: Journal,
      inject: [AppConfig, { token: DeploymentIdentity, optional: true }],
      useFactory: (config: AppConfig, identity?: DeploymentIdentity) =>
        new Journal(() => (identity ? join(config.dataDir, 'journal', identity.installationId) : null)),
    },
    JournalCloser,
  ],
  exports: [Journal],
})
export class JournalModule {}
