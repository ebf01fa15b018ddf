import './quota.errors';
export * from './quota-period';
export * from './quota.store';
export * from './quota.service';
export * from './token-usage.reader';
export * from './quota.module';
export * from './quota-refusal';
export * from './spend.reader';
