export { TableRepository } from './table-repository';
export { TenantScope } from './tenant-scope';
export { IsolationLevel, Transactions, UnitOfWork } from './unit-of-work';
