import { Module } from '@nestjs/common';
import { ApiKeysModule } from '#libs/api-keys';
import { TenantsModule } from '#libs/tenants';
import { V1MeController } from './me/v1-me.controller';
import { V1UsersController } from './users/v1-users.controller';

/** `/api/v1/me` and `/api/v1/users`: what a tenant's servers do with an API key. */
@Module({
  imports: [TenantsModule, ApiKeysModule],
  controllers: [V1MeController, V1UsersController],
})
export class TenantIntegrationModule {}
