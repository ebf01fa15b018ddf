import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { describeReplay, Journal } from '#libs/journal';

/**
 * Before serving: what instances killed earlier had counted and not yet written (usage records, quota and
 * spend counters) is applied from their journals under DATA_DIR, each item once. What cannot be applied now
 * is tried again while the server runs (JournalReplayScheduler).
 */
export async function replayJournals(app: NestFastifyApplication, logger: LoggerService): Promise<void> {
  await app.init(); // the journal's directory names the installation, read at init
  const line = describeReplay(await app.get(Journal).replayOrphans());
  if (line) logger.log(line, 'Journal');
}
