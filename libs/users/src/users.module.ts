import { InviteesModule } from './invitees/invitees.module';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClerkModule } from '#libs/clerk';
import { OpenRouterModule } from '#libs/openrouter';
import { TenantsModule } from '#libs/tenants';
import { UserAccounts } from './accounts/user-accounts.service';
import { LoginService } from './login/login.service';
import { MeController } from './me/me.controller';
import { MeService } from './me/me.service';
import { ProviderKeysService } from './provider-keys.service';
import { UserSnapshotCache } from './snapshot/user-snapshot.cache';
import { UserProviderKey } from './user-provider-key.entity';
import { User } from './user.entity';
import { UserProviderKeyRepository } from './user-provider-key.repository';
import { UserSessionRepository } from './user-session.repository';
import { UserRepository } from './user.repository';

@Module({
  imports: [
    TypeOrmModule.forFeature([User, UserProviderKey]),
    TenantsModule,
    OpenRouterModule,
    ClerkModule,
    InviteesModule,
  ],
  controllers: [MeController],
  providers: [
    UserRepository,
    UserSessionRepository,
    UserProviderKeyRepository,
    UserAccounts,
    LoginService,
    MeService,
    ProviderKeysService,
    UserSnapshotCache,
  ],
  exports: [UserAccounts, LoginService, ProviderKeysService, UserSnapshotCache],
})
export class UsersModule {}
