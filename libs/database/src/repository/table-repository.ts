import { DataSource, EntityManager } from 'typeorm';
import { managerOfUnitOfWork, UnitOfWork } from './unit-of-work';

/**
 * What every repository extends: the one place a repository turns a unit of work (or none: the pool) into the
 * connection its statements run on.
 */
export abstract class TableRepository {
  protected constructor(protected readonly dataSource: DataSource) {}

  protected manager(uow?: UnitOfWork): EntityManager {
    if (!uow) return this.dataSource.manager;
    const manager = managerOfUnitOfWork(uow);
    if (!manager) throw new Error('A unit of work that Transactions did not open');
    return manager;
  }
}
