export * from './journal';
export * from './journal-replay.scheduler';
export * from './journal.module';
