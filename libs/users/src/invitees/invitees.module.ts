import { Global, Module } from '@nestjs/common';
import { INVITEE_DIRECTORY } from '#libs/tenants';
import { UserRepository } from '../user.repository';
import { PendingInvitees } from './pending-invitees';

/** Global so that the tenants lib's member services find the directory without importing users (a cycle). */
@Global()
@Module({
  providers: [UserRepository, { provide: INVITEE_DIRECTORY, useClass: PendingInvitees }],
  exports: [INVITEE_DIRECTORY],
})
export class InviteesModule {}
