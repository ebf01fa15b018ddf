export * from './job-lease';
export * from './job-lease.repository';
export * from './openrouter-reconciler';
export * from './read-model/upstream-key-reference.repository';
export * from './reconciliation.types';
export * from './reconciliation.module';
