import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyAuthenticatorService, ApiKeysModule } from '#libs/api-keys';
import { TenantsModule } from '#libs/tenants';
import { UsersModule } from '#libs/users';
import { API_KEY_AUTHENTICATOR } from './api-key-authenticator';
import { AuthGuard } from './auth.guard';
import { ClerkTokenVerifier } from './clerk/clerk-token.verifier';
import { ClerkAuthenticator } from './clerk/clerk.authenticator';

@Global()
@Module({
  imports: [UsersModule, TenantsModule, ApiKeysModule],
  providers: [
    ClerkTokenVerifier,
    ClerkAuthenticator,
    // X-API-Key routes: the tenant API key capability verifies keys (see libs/api-keys).
    { provide: API_KEY_AUTHENTICATOR, useExisting: ApiKeyAuthenticatorService },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ClerkTokenVerifier],
})
export class AuthModule {}
