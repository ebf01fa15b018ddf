import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { AdminModule } from '#libs/admin';
import { ApiKeysModule } from '#libs/api-keys';
import { AuditModule } from '#libs/audit';
import { AuditReadModule } from '#libs/audit-read';
import { AppConfig, AppConfigModule } from '#libs/config';
import { DatabaseEndpoint, DatabaseModule } from '#libs/database';
import { InstallationModule } from '#libs/installation';
import { OpenRouterModule } from '#libs/openrouter';
import { RateLimitModule } from '#libs/rate-limit';
import { ReconciliationModule } from '#libs/reconciliation';
import { RedisModule } from '#libs/redis';
import { TenantsModule } from '#libs/tenants';
import { UsersModule } from '#libs/users';
import { CliLookup } from './cli-lookup';
import { CliProgram } from './cli-program';
import { COMMANDS } from './commands';

/**
 * The command line: the server's libraries on the same database (migrations run at start-up, as in
 * the server), without HTTP. No schedule: reconciliation runs when asked.
 */
@Module({})
export class CliModule {
  static forRoot(endpoint: DatabaseEndpoint): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule,
        DatabaseModule.forEndpoint(endpoint),
        InstallationModule.forRoot({ resealOnStartup: false }),
        RedisModule,
        AuditModule,
        OpenRouterModule,
        TenantsModule,
        AuditReadModule,
        ReconciliationModule.forRoot({ schedule: false }),
        AdminModule,
        ApiKeysModule,
        // Owns user_provider_keys, whose secrets secrets:reseal re-seals (its route guards need the throttler).
        RateLimitModule.forRoot(),
        UsersModule,
      ],
      providers: [CliProgram, CliLookup, ...COMMANDS],
    };
  }

  /**
   * Only the commands, their dependencies stubbed: enough for commander to print usage and usage
   * errors without opening the database (which the server may hold: the embedded one is single-process).
   */
  static forHelp(): DynamicModule {
    return { module: CliModule, providers: [CliProgram, ...COMMANDS, ...stubDependencies(COMMANDS)] };
  }

  /** The commands that need only the configuration (`database: false`): the real AppConfig, the rest stubbed. */
  static forConfigOnly(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      providers: [
        CliProgram,
        ...COMMANDS,
        ...stubDependencies(COMMANDS).filter((p) => (p as { provide: unknown }).provide !== AppConfig),
        { provide: AppConfig, useValue: config },
      ],
    };
  }
}

function stubDependencies(commands: Type[]): Provider[] {
  const tokens = new Set<unknown>();
  for (const command of commands) {
    for (const token of (Reflect.getMetadata('design:paramtypes', command) as unknown[] | undefined) ?? [])
      tokens.add(token);
  }
  return [...tokens].map((token) => ({ provide: token as Type, useValue: {} }));
}
