export * from './api-key-authenticator';
export * from './auth.guard';
export * from './auth.module';
export * from './clerk/clerk-token.verifier';
