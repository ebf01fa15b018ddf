export * from './admin-directory.service';
export * from './admin-key-refresh.service';
export * from './platform-stats.service';
export * from './dto/admin-tenant.response';
export * from './dto/admin-user.response';
export * from './dto/stats.response';
export * from './admin.module';
