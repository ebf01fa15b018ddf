export * from './job-lease';
export * from './openrouter-reconciler';
export * from './reconciliation.types';
export * from './reconciliation.module';
