import { AppError } from '#libs/common';
import { OpenRouterError } from './client/openrouter.errors';

/** The code of an error for logs, audit and answers: OpenRouter's or the app's own, else `unexpected_error`. */
export function codeOf(err: unknown): string {
  if (err instanceof OpenRouterError || err instanceof AppError) return err.code;
  return 'unexpected_error';
}
