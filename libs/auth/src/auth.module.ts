import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TenantsModule } from '../../tenants/src';
import { UsersModule } from '../../users/src';
import { AuthGuard } from './auth.guard';
import { ClerkTokenVerifier } from './clerk/clerk-token.verifier';
import { ClerkAuthenticator } from './clerk/clerk.authenticator';

@Global()
@Module({
  imports: [UsersModule, TenantsModule],
  providers: [ClerkTokenVerifier, ClerkAuthenticator, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ClerkTokenVerifier],
})
export class AuthModule {}
