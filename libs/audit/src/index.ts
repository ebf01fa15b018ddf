export * from './audit-actions';
export * from './audit-event.entity';
export * from './audit-event.repository';
export * from './audit.service';
export * from './audit.module';
export * from './audit-scope';
