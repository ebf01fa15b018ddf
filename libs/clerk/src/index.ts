export * from './clerk-claims';
export * from './clerk-payloads';
export * from './clerk-profile.client';
export * from './clerk.module';
