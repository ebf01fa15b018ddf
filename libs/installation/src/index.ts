export * from './deployment-identity';
export * from './installation.module';
export * from './sealed-columns';
export * from './secrets-resealer';
