import './clerk.errors';
export * from './clerk-claims';
export * from './clerk-payloads';
export * from './clerk-profile.client';
export * from './development-session-token';
export * from './clerk.module';
