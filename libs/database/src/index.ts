export * from './database-endpoint';
export * from './data-source-options';
export * from './database.module';
export * from './run-migrations';
export { embeddedServerAnswers, embeddedSocketPath } from './embedded-postgres';
export * from './repository';
