export * from './tenant.entity';
export * from './membership.entity';
export * from './membership.queries';
export * from './tenant-mapping.service';
export * from './tenants.module';
