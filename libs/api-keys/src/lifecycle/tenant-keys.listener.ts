import { Injectable, OnModuleInit } from '@nestjs/common';
import { MemberRemovingEvent, TenantChangeHooks, TenantDeletingEvent } from '#libs/tenants';
import { ApiKeyRevoker } from '../management/api-key-revoker.service';

/** A deleted tenant's keys, and a removed member's keys in that tenant, are revoked with the change. */
@Injectable()
export class TenantKeysListener implements OnModuleInit {
  constructor(
    private readonly hooks: TenantChangeHooks,
    private readonly revoker: ApiKeyRevoker,
  ) {}

  onModuleInit(): void {
    this.hooks.register({
      tenantDeleting: (e: TenantDeletingEvent) => this.revoker.revokeAllOfTenant(e.uow, e.tenantId, e.audit),
      memberRemoving: (e: MemberRemovingEvent) => this.revoker.revokeAllOfMember(e.uow, e.tenantId, e.userId, e.audit),
    });
  }
}
