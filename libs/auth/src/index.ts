import './auth.errors';
export * from './api-key-authenticator';
export * from './auth.guard';
export * from './auth.module';
export * from './clerk/clerk-token.verifier';
export * from './credential.resolver';
export * from './edge/edge-authentication.hook';
export * from './route-auth.policies';
export * from './route-auth.policy';
