import { DynamicModule, Global, Module } from '@nestjs/common';
import { DeploymentIdentity } from './deployment-identity';
import { InstallationRepository } from './installation.repository';
import { ResealOnStartup } from './reseal-on-startup';
import { SealedColumns } from './sealed-columns';
import { SecretsResealer } from './secrets-resealer';

/** Deployment identity: installation id and encryption-key fingerprint, and re-sealing secrets. */
@Global()
@Module({})
export class InstallationModule {
  /** `resealOnStartup: true` (the server) re-seals stale secrets in the background once started. */
  static forRoot(opts: { resealOnStartup: boolean }): DynamicModule {
    return {
      module: InstallationModule,
      providers: [
        InstallationRepository,
        SealedColumns,
        SecretsResealer,
        DeploymentIdentity,
        ...(opts.resealOnStartup ? [ResealOnStartup] : []),
      ],
      exports: [DeploymentIdentity, SealedColumns, SecretsResealer],
    };
  }
}
