import './gateway.errors';
export * from './gateway.module';
export * from './usage/usage-record';
export * from './usage/usage.recorder';
export * from './errors/openai-error';
export * from './usage/retention/usage-retention';
export * from './usage/usage.query';
export * from './usage/usage-query.dto';
