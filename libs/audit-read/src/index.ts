export * from './audit-event.response';
export * from './audit-event-read.repository';
export * from './audit-queries.service';
export * from './list-audit-events.query';
export * from './audit-read.module';
