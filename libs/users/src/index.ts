import './users.errors';
export * from './user.entity';
export * from './user-provider-key.entity';
// Clerk's claims are parsed in libs/clerk; re-exported for the auth lib, which imports them from here.
export { parseClerkClaims } from '#libs/clerk';
export type { ClerkClaims } from '#libs/clerk';
export * from './login/login.service';
export * from './provider-keys.service';
export * from './users.module';
export * from './snapshot/user-snapshot';
export * from './snapshot/user-snapshot.cache';
export * from './accounts/user-accounts.service';
