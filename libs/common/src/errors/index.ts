export * from './app-error';
export * from './error-catalogue';
export * from './error-response';
export * from './error-shape';
export * from './http-status-names';
