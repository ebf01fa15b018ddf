import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QuotaModule } from '#libs/quota';
import { TenantsModule } from '#libs/tenants';
import { ApiKey } from './api-key.entity';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyCacheSync } from './auth/api-key-cache.sync';
import { ApiKeyAuthenticatorService } from './auth/api-key.authenticator';
import { ApiKeyLookup } from './auth/api-key.lookup';
import { LastUsedTracker } from './auth/last-used.tracker';
import { TenantKeysListener } from './lifecycle/tenant-keys.listener';
import { ApiKeyEditor } from './management/api-key-editor.service';
import { ApiKeyIssuer } from './management/api-key-issuer.service';
import { ApiKeyRevoker } from './management/api-key-revoker.service';
import { ApiKeysController } from './management/api-keys.controller';
import { TokensUsedView } from './usage/tokens-used.view';

/**
 * Tenant API keys: management routes, and the authenticator the global auth guard uses for
 * `X-API-Key` (AuthModule imports this module and provides it under API_KEY_AUTHENTICATOR).
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), TenantsModule, QuotaModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeyRepository,
    ApiKeyLookup,
    ApiKeyCacheSync,
    LastUsedTracker,
    ApiKeyAuthenticatorService,
    ApiKeyIssuer,
    ApiKeyEditor,
    ApiKeyRevoker,
    TenantKeysListener,
    TokensUsedView,
  ],
  exports: [
    ApiKeyAuthenticatorService,
    ApiKeyRepository,
    ApiKeyIssuer,
    ApiKeyEditor,
    ApiKeyRevoker,
    ApiKeyCacheSync,
    TokensUsedView,
  ],
})
export class ApiKeysModule {}
