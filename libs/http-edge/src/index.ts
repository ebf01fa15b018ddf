export * from './edge-limits';
export * from './edge-reply';
export * from './json-body.parser';
export * from './server-options';
export * from './browser-edge';
export * from './auth-failure.limiter';
export * from './security-headers';
export * from './framework-errors';
