import { DynamicModule, Global, Injectable, InjectionToken, Module, OnApplicationShutdown } from '@nestjs/common';
import { Journal } from './journal';
import { JournalReplayScheduler } from './journal-replay.scheduler';

/** Closes the journal at shutdown (removing it when nothing is owed); process exit is the last resort. */
@Injectable()
class JournalCloser implements OnApplicationShutdown {
  constructor(private readonly journal: Journal) {}
  onApplicationShutdown(): void {
    this.journal.finish();
  }
}

export interface JournalModuleOptions {
  inject: InjectionToken[];
  /** The journal's directory, asked at the first append (after start-up); null: no journal. */
  directory: (...deps: never[]) => string | null;
}

/**
 * The process's crash journal, for the server (the command line has none: what it counts it writes at once).
 * Global: consumers (the usage recorder, the quota settler) take it as an optional dependency.
 */
@Global()
@Module({})
export class JournalModule {
  static forRoot(options: JournalModuleOptions): DynamicModule {
    return {
      module: JournalModule,
      providers: [
        {
          provide: Journal,
          inject: options.inject,
          useFactory: (...deps: never[]) => new Journal(() => options.directory(...deps)),
        },
        JournalCloser,
        {
          provide: JournalReplayScheduler,
          inject: [Journal],
          useFactory: (j: Journal) => new JournalReplayScheduler(j),
        },
      ],
      exports: [Journal],
    };
  }
}
