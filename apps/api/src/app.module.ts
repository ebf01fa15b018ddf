import { DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminModule } from '#libs/admin';
import { ApiKeysModule } from '#libs/api-keys';
import { AuditModule } from '#libs/audit';
import { AuditReadModule } from '#libs/audit-read';
import { AuthModule } from '#libs/auth';
import { AppExceptionFilter } from '#libs/common';
import { AppConfig, AppConfigModule } from '#libs/config';
import { DatabaseEndpoint, DatabaseModule } from '#libs/database';
import { GatewayModule } from '#libs/gateway';
import { HealthModule } from '#libs/health';
import { DeploymentIdentity, InstallationModule } from '#libs/installation';
import { JournalModule } from '#libs/journal';
import { MetricsModule } from '#libs/metrics';
import { OpenRouterModule } from '#libs/openrouter';
import { RateLimitModule } from '#libs/rate-limit';
import { ReconciliationModule } from '#libs/reconciliation';
import { RedisModule } from '#libs/redis';
import { TenantIntegrationModule } from '#libs/tenant-integration';
import { TenantsModule } from '#libs/tenants';
import { UsersModule } from '#libs/users';
import { WebhooksModule } from '#libs/webhooks';

/** The HTTP server: every capability, wired once. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, endpoint: DatabaseEndpoint): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forConfig(config),
        DatabaseModule.forEndpoint(endpoint),
        // Installation id and the encryption key's fingerprint, checked before anything is served.
        InstallationModule.forRoot({ resealOnStartup: true }),
        // The crash journal under DATA_DIR, a directory per installation: databases sharing a DATA_DIR stay apart.
        JournalModule.forRoot({
          inject: [AppConfig, DeploymentIdentity],
          directory: (config: AppConfig, identity: DeploymentIdentity) =>
            join(config.dataDir, 'journal', identity.installationId),
        }),
        RedisModule,
        MetricsModule,
        // @nestjs/throttler on constant-cost storage (Redis across instances when configured).
        RateLimitModule.forRoot(),
        AuditModule,
        OpenRouterModule,
        TenantsModule,
        UsersModule,
        AuthModule,
        HealthModule,
        // Tenants, members and tenant API keys.
        ApiKeysModule,
        TenantIntegrationModule,
        // OpenAI-compatible gateway, usage and quotas.
        GatewayModule,
        // Operations: one ScheduleModule.forRoot() for the whole app.
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
