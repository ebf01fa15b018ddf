import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from '../../../libs/audit/src';
import { AuthModule } from '../../../libs/auth/src';
import { AppExceptionFilter, loggerOptions } from '../../../libs/common/src';
import { AppConfig, AppConfigModule } from '../../../libs/config/src';
import { DatabaseEndpoint, DatabaseModule } from '../../../libs/database/src';
import { HealthModule } from '../../../libs/health/src';
import { OpenRouterModule } from '../../../libs/openrouter/src';
import { RedisModule } from '../../../libs/redis/src';
import { TenantsModule } from '../../../libs/tenants/src';
import { UsersModule } from '../../../libs/users/src';

/** The HTTP server: every capability, wired once. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, endpoint: DatabaseEndpoint): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule,
        LoggerModule.forRoot(loggerOptions(config.logLevel)),
        DatabaseModule.forEndpoint(endpoint),
        RedisModule,
        ThrottlerModule.forRoot([{ name: 'default', ttl: 60_000, limit: 1000 }]),
        AuditModule,
        OpenRouterModule,
        TenantsModule,
        UsersModule,
        AuthModule,
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
    };
  }
}
