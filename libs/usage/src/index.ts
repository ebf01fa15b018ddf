export * from './usage-rollup.sql';
export * from './usage-window';
export * from './usage-window.sql';
export * from './usage-ledger-state';
export * from './usage-ledger-state.repository';
export * from './usage-rollup.repository';
export * from './usage-rollup-rebuilder';
export * from './usage-ledger.module';
