import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { OpenRouterModule } from '#libs/openrouter';
import { JobLease } from './job-lease';
import { JobLeaseRepository } from './job-lease.repository';
import { OpenRouterReconciler } from './openrouter-reconciler';
import { UpstreamKeyReferenceRepository } from './read-model/upstream-key-reference.repository';
import { ReconciliationScheduler } from './reconciliation.scheduler';
import { DEFAULT_RECONCILIATION_OPTIONS, RECONCILIATION_OPTIONS, ReconciliationOptions } from './reconciliation.types';

@Module({})
export class ReconciliationModule {
  /**
   * `schedule: true` (the server) runs it periodically and needs `ScheduleModule.forRoot()` in the
   * application; the command line runs it on demand only.
   */
  static forRoot(opts: Partial<ReconciliationOptions> & { schedule: boolean }): DynamicModule {
    const { schedule, ...overrides } = opts;
    const optionsFrom = (config: AppConfig): ReconciliationOptions => ({
      ...DEFAULT_RECONCILIATION_OPTIONS,
      defaultGraceMs: config.openRouter.reconcileGraceMs,
      intervalMs: schedule && config.openRouter.reconcileIntervalMs > 0 ? config.openRouter.reconcileIntervalMs : null,
      ...overrides,
    });
    return {
      module: ReconciliationModule,
      // Global: the admin routes and the command line use the one reconciler the application configured.
      global: true,
      imports: [OpenRouterModule],
      providers: [
        { provide: RECONCILIATION_OPTIONS, inject: [AppConfig], useFactory: optionsFrom },
        JobLeaseRepository,
        UpstreamKeyReferenceRepository,
        JobLease,
        OpenRouterReconciler,
        ...(schedule ? [ReconciliationScheduler] : []),
      ],
      exports: [OpenRouterReconciler, JobLease, RECONCILIATION_OPTIONS],
    };
  }
}
