import { DynamicModule, Module } from '@nestjs/common';
import { OpenRouterModule } from '../../openrouter/src';
import { JobLease } from './job-lease';
import { OpenRouterReconciler } from './openrouter-reconciler';
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
    const options: ReconciliationOptions = { ...DEFAULT_RECONCILIATION_OPTIONS, ...overrides };
    if (!schedule) options.intervalMs = null;
    return {
      module: ReconciliationModule,
      // Global: the admin routes and the command line use the one reconciler the application configured.
      global: true,
      imports: [OpenRouterModule],
      providers: [
        { provide: RECONCILIATION_OPTIONS, useValue: options },
        JobLease,
        OpenRouterReconciler,
        ...(schedule ? [ReconciliationScheduler] : []),
      ],
      exports: [OpenRouterReconciler, JobLease, RECONCILIATION_OPTIONS],
    };
  }
}
