import { Module } from '@nestjs/common';
import { AuditReadModule } from '#libs/audit-read';
import { OpenRouterModule } from '#libs/openrouter';
import { UsageLedgerModule } from '#libs/usage';
import { AdminDirectory } from './admin-directory.service';
import { AdminKeyRefresh } from './admin-key-refresh.service';
import { AdminUserBudgets } from './admin-user-budget.service';
import { AdminController } from './admin.controller';
import { PlatformStats } from './platform-stats.service';
import { PlatformDirectoryRepository } from './read-model/platform-directory.repository';
import { PlatformStatsRepository } from './read-model/platform-stats.repository';

/**
 * Platform administration. Needs `ReconciliationModule.forRoot()` (global) in the application for
 * the reconcile route.
 */
@Module({
  imports: [OpenRouterModule, AuditReadModule, UsageLedgerModule],
  controllers: [AdminController],
  providers: [
    PlatformDirectoryRepository,
    PlatformStatsRepository,
    AdminDirectory,
    PlatformStats,
    AdminKeyRefresh,
    AdminUserBudgets,
  ],
  exports: [AdminDirectory, PlatformStats, AdminKeyRefresh, AdminUserBudgets],
})
export class AdminModule {}
