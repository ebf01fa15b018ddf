export * from './deployment-identity';
export * from './installation.module';
export * from './installation.repository';
export * from './sealed-columns';
export * from './secrets-resealer';
