export * from './fixed-window';
export * from './memory-throttler.storage';
export * from './redis-throttler.storage';
export * from './rate-limit.module';
export * from './api-key-throttler.guard';
