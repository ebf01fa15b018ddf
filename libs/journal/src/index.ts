export * from './journal';
export * from './journal.module';
