import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Journal } from '#libs/journal';

/**
 * Before serving: what instances killed earlier had counted and not yet written (usage records, quota and
 * spend counters) is applied from their journals under DATA_DIR, each item once.
 */
export async function replayJournals(app: NestFastifyApplication, logger: LoggerService): Promise<void> {
  await app.init(); // the journal's directory names the installation, read at init
  const report = await app.get(Journal).replayOrphans();
  if (report.journals === 0 && report.torn === 0 && report.failed === 0) return;
  const applied = Object.entries(report.applied)
    .map(([channel, n]) => `${n} ${channel}`)
    .join(', ');
  logger.log(
    `Replayed ${report.journals} journal(s) of stopped instances: ${applied || 'nothing owed'}` +
      (report.torn > 0 ? `; ${report.torn} line(s) cut short by the kill skipped` : '') +
      (report.failed > 0 ? `; ${report.failed} kept for the next start (see the error above)` : ''),
    'Journal',
  );
}
