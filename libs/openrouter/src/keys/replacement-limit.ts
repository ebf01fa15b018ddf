import { Inject, Injectable } from '@nestjs/common';
import { getStorageToken, type ThrottlerStorage } from '@nestjs/throttler';
import { AppError } from '#libs/common';

/** At most this many replacements of one user's key a minute, whoever asks (user, admin, CLI, renewal on 401). */
export const KEY_REPLACEMENTS_PER_MINUTE = 5;
const WINDOW_MS = 60_000;

/**
 * The one rule limiting how often a user's OpenRouter key is replaced: each replacement counts against the user,
 * on the app's throttler storage (the global ThrottlerModule's, set up by libs/rate-limit: Redis when configured,
 * so the limit holds across instances).
 */
@Injectable()
export class KeyReplacementLimit {
  constructor(@Inject(getStorageToken()) private readonly storage: ThrottlerStorage) {}

  /** Counts one replacement of the user's key; over the limit, 429 `rate_limited` with Retry-After. */
  async take(userId: string): Promise<void> {
    const hit = await this.storage.increment(userId, WINDOW_MS, KEY_REPLACEMENTS_PER_MINUTE, 0, 'openrouter-key');
    if (!hit.isBlocked) return;
    throw new AppError(
      'rate_limited',
      `At most ${KEY_REPLACEMENTS_PER_MINUTE} replacements of a user's OpenRouter key a minute`,
      undefined,
      { 'retry-after': String(Math.max(1, hit.timeToBlockExpire)) },
    );
  }
}
