export * from './tenant-integration.module';
