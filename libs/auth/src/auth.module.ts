import { Global, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ApiKeyAuthenticatorService, ApiKeysModule } from '#libs/api-keys';
import { RateLimitStorageModule } from '#libs/rate-limit';
import { TenantsModule } from '#libs/tenants';
import { UsersModule } from '#libs/users';
import { API_KEY_AUTHENTICATOR } from './api-key-authenticator';
import { AuthGuard } from './auth.guard';
import { ClerkTokenVerifier } from './clerk/clerk-token.verifier';
import { ClerkAuthenticator } from './clerk/clerk.authenticator';
import { CredentialResolver } from './credential.resolver';
import { EdgeAuthenticationHook } from './edge/edge-authentication.hook';
import { RouteAuthPolicies } from './route-auth.policies';

@Global()
@Module({
  imports: [DiscoveryModule, UsersModule, TenantsModule, ApiKeysModule, RateLimitStorageModule],
  providers: [
    ClerkTokenVerifier,
    ClerkAuthenticator,
    // X-API-Key routes: the tenant API key capability verifies keys (see libs/api-keys).
    { provide: API_KEY_AUTHENTICATOR, useExisting: ApiKeyAuthenticatorService },
    CredentialResolver,
    RouteAuthPolicies,
    EdgeAuthenticationHook,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ClerkTokenVerifier, EdgeAuthenticationHook],
})
export class AuthModule {}
