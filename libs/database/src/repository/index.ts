export { TableRepository } from './table-repository';
export { TenantScope } from './tenant-scope';
export { entityManagerOf, IsolationLevel, Transactions, UnitOfWork, unitOfWorkOf } from './unit-of-work';
