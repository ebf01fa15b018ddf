export * from './gateway.module';
export * from './usage/usage-record';
export * from './usage/usage.recorder';
export * from './errors/openai-error';
