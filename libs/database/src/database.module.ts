import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DatabaseEndpoint } from './database-endpoint';
import { dataSourceOptions } from './data-source-options';
import { Transactions } from './repository';
import { runMigrations } from './run-migrations';

export const DATABASE_ENDPOINT = Symbol('DATABASE_ENDPOINT');

@Global()
@Module({})
export class DatabaseModule {
  /** The endpoint is opened before Nest starts (see apps/api main.ts) so that it outlives the data source. */
  static forEndpoint(endpoint: DatabaseEndpoint): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(endpoint), autoLoadEntities: true }),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            const applied = await runMigrations(dataSource);
            if (applied.length) new Logger('Database').log(`Applied migrations: ${applied.join(', ')}`);
            return dataSource;
          },
        }),
      ],
      providers: [{ provide: DATABASE_ENDPOINT, useValue: endpoint }, Transactions],
      exports: [DATABASE_ENDPOINT, Transactions],
    };
  }
}
