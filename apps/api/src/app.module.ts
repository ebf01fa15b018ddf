import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from '../../../libs/admin/src';
import { ApiKeysModule } from '../../../libs/api-keys/src';
import { AuditModule } from '../../../libs/audit/src';
import { AuditReadModule } from '../../../libs/audit/src/read';
import { AuthModule } from '../../../libs/auth/src';
import { AppExceptionFilter, loggerModuleParams } from '../../../libs/common/src';
import { AppConfig, AppConfigModule } from '../../../libs/config/src';
import { DatabaseEndpoint, DatabaseModule } from '../../../libs/database/src';
import { GatewayModule } from '../../../libs/gateway/src';
import { HealthModule } from '../../../libs/health/src';
import { OpenRouterModule } from '../../../libs/openrouter/src';
import { RateLimitModule } from '../../../libs/rate-limit/src';
import { ReconciliationModule } from '../../../libs/reconciliation/src';
import { RedisModule } from '../../../libs/redis/src';
import { TenantIntegrationModule } from '../../../libs/tenant-integration/src';
import { TenantsModule } from '../../../libs/tenants/src';
import { UsersModule } from '../../../libs/users/src';
import { WebhooksModule } from '../../../libs/webhooks/src';

/** The HTTP server: every capability, wired once. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, endpoint: DatabaseEndpoint): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule,
        LoggerModule.forRoot(loggerModuleParams(config.logLevel)),
        DatabaseModule.forEndpoint(endpoint),
        RedisModule,
        // @nestjs/throttler on constant-cost storage (Redis across instances when configured).
        RateLimitModule.forRoot(),
        AuditModule,
        OpenRouterModule,
        TenantsModule,
        UsersModule,
        AuthModule,
        HealthModule,
        // Tenants, members and tenant API keys (issue 3).
        ApiKeysModule,
        TenantIntegrationModule,
        // OpenAI-compatible gateway, usage and quotas (issue 4).
        GatewayModule,
        // Operations (issue 5): one ScheduleModule.forRoot() for the whole app.
        ScheduleModule.forRoot(),
        ReconciliationModule.forRoot({ schedule: true }),
        AuditReadModule,
        AdminModule,
        WebhooksModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
    };
  }
}
