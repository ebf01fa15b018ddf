export * from './app-config';
export * from './config.module';
export * from './development-signing-key';
export * from './environment';
export * from './load-dot-env';
