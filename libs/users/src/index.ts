export * from './user.entity';
export * from './user-provider-key.entity';
export * from './login/clerk-claims';
export * from './login/login.service';
export * from './provider-keys.service';
export * from './users.module';
export * from './snapshot/user-snapshot';
export * from './snapshot/user-snapshot.cache';
