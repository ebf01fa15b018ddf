import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QuotaModule } from '#libs/quota';
import { TenantAccessGuard } from './access/tenant-access.guard';
import { TenantChangeHooks } from './hooks/tenant-change.hooks';
import { MemberDirectory } from './members/member-directory';
import { MembersController } from './members/members.controller';
import { MembersService } from './members/members.service';
import { MembershipRepository } from './members/membership.repository';
import { MembershipQueries } from './membership.queries';
import { TenantCommands } from './tenant-crud/tenant-commands.service';
import { TenantBudgets } from './tenant-crud/tenant-budget.service';
import { TenantsController } from './tenant-crud/tenants.controller';
import { TenantMappingService } from './tenant-mapping.service';
import { Tenant } from './tenant.entity';
import { TenantRepository } from './tenant.repository';

@Module({
  imports: [TypeOrmModule.forFeature([Tenant]), QuotaModule],
  controllers: [TenantsController, MembersController],
  providers: [
    TenantMappingService,
    MembershipQueries,
    TenantAccessGuard,
    TenantChangeHooks,
    TenantCommands,
    TenantBudgets,
    TenantRepository,
    MembershipRepository,
    MemberDirectory,
    MembersService,
  ],
  exports: [
    TenantMappingService,
    MembershipQueries,
    TenantAccessGuard,
    TenantChangeHooks,
    MembershipRepository,
    MemberDirectory,
    MembersService,
    TenantCommands,
  ],
})
export class TenantsModule {}
