export * from './app-error';
export * from './error-response';
export * from './http-status-names';
