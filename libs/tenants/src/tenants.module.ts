import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QuotaModule } from '#libs/quota';
import { TenantAccessGuard } from './access/tenant-access.guard';
import { TenantChangeHooks } from './hooks/tenant-change.hooks';
import { MemberDirectory } from './members/member-directory';
import { MemberRepository } from './members/member.repository';
import { MembersController } from './members/members.controller';
import { MembersService } from './members/members.service';
import { Membership } from './membership.entity';
import { MembershipQueries } from './membership.queries';
import { TenantCommands } from './tenant-crud/tenant-commands.service';
import { TenantBudgets } from './tenant-crud/tenant-budget.service';
import { TenantsController } from './tenant-crud/tenants.controller';
import { TenantMappingService } from './tenant-mapping.service';
import { Tenant } from './tenant.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Tenant, Membership]), QuotaModule],
  controllers: [TenantsController, MembersController],
  providers: [
    TenantMappingService,
    MembershipQueries,
    TenantAccessGuard,
    TenantChangeHooks,
    TenantCommands,
    TenantBudgets,
    MemberRepository,
    MemberDirectory,
    MembersService,
  ],
  exports: [
    TenantMappingService,
    MembershipQueries,
    TenantAccessGuard,
    TenantChangeHooks,
    MemberRepository,
    MemberDirectory,
    MembersService,
    TenantCommands,
  ],
})
export class TenantsModule {}
