import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

declare const opaque: unique symbol;

/**
 * An open transaction, as services hold it: they pass it from one repository call to the next and cannot run
 * anything on it themselves. Only repositories (through `TableRepository.manager`) reach the connection behind it.
 */
export interface UnitOfWork {
  readonly [opaque]: 'UnitOfWork';
}

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

const managers = new WeakMap<UnitOfWork, EntityManager>();

function open(manager: EntityManager): UnitOfWork {
  const uow = Object.freeze({}) as UnitOfWork;
  managers.set(uow, manager);
  return uow;
}

/** The connection of a unit of work; undefined for a handle that did not come from `Transactions`. */
export function managerOfUnitOfWork(uow: UnitOfWork): EntityManager | undefined {
  return managers.get(uow);
}

/** Runs work in one database transaction: committed when it resolves, rolled back when it throws. */
@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (uow: UnitOfWork) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    const body = (manager: EntityManager) => work(open(manager));
    return isolation ? this.dataSource.transaction(isolation, body) : this.dataSource.transaction(body);
  }
}
