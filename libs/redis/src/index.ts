export * from './redis.client';
export * from './redis.module';
export * from './invalidation-bus';
