import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Membership } from './membership.entity';
import { MembershipQueries } from './membership.queries';
import { TenantMappingService } from './tenant-mapping.service';
import { Tenant } from './tenant.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Tenant, Membership])],
  providers: [TenantMappingService, MembershipQueries],
  exports: [TenantMappingService, MembershipQueries],
})
export class TenantsModule {}
