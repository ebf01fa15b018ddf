import { Global, Module } from '@nestjs/common';
import { INVITEE_DIRECTORY } from '#libs/tenants';
import { PendingInvitees } from './pending-invitees';

/** Global so that the tenants lib's member services find the directory without importing users (a cycle). */
@Global()
@Module({
  providers: [{ provide: INVITEE_DIRECTORY, useClass: PendingInvitees }],
  exports: [INVITEE_DIRECTORY],
})
export class InviteesModule {}
