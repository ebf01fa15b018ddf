export * from './gateway.module';
export * from './usage/usage-record';
export * from './usage/usage.recorder';
export * from './errors/openai-error';
export * from './usage/usage-ledger.module';
export * from './usage/rollups/usage-rollup-rebuilder';
export * from './usage/retention/usage-retention';
export { platformSpendSql } from './usage/rollups/usage-window.sql';
