/** What the battery refuses in an answer: a server error, an error without its code, a secret in a body. */
import { isOpenAiRoute } from './openapi-routes';
import type { Variant } from './variants';

export interface Answer {
  status: number;
  text: string;
  /** Set when no HTTP answer came back (connection reset, timeout). */
  transportError?: string;
}

export interface Secret {
  name: string;
  value: string;
  /** Routes whose successful answers carry this secret by design (the user's own OpenRouter key on /me). */
  allowedOnSuccessOf?: RegExp;
  /** Only an error may not carry it (a value the caller sent, which a success may store and show). */
  errorsOnly?: boolean;
}

export interface Failure {
  variant: Variant;
  status: number | 'no answer';
  problem: string;
  excerpt: string;
}

export function judge(variant: Variant, answer: Answer, secrets: readonly Secret[]): Failure[] {
  const fail = (problem: string): Failure => ({
    variant,
    status: answer.transportError ? 'no answer' : answer.status,
    problem,
    excerpt: redact(answer.transportError ?? answer.text, secrets).slice(0, 240),
  });
  // A server may answer 413 and close while a large body is still being written; the client then sees the
  // pipe break, racing the answer. The server did refuse it, so that is not a failure (a crash would fail
  // every later variant).
  if (answer.transportError && variant.category === 'large body' && /EPIPE|ECONNRESET/.test(answer.transportError))
    return [];
  if (answer.transportError) return [fail(`no HTTP answer (${answer.transportError})`)];
  const failures: Failure[] = [];
  if (answer.status >= 500) failures.push(fail('server error'));
  // The contract refuses strings holding NUL or lone surrogates in its DTOs; a webhook may instead acknowledge
  // a payload it cannot store, and the OpenAI routes forward their bodies upstream as they are.
  if (
    answer.status < 300 &&
    (variant.category === 'NUL' || variant.category === 'lone surrogate') &&
    variant.credentials === 'valid' &&
    variant.route.auth !== 'webhook' &&
    !isOpenAiRoute(variant.route.path)
  )
    failures.push(fail(`${variant.category} accepted`));
  if (answer.status >= 400) {
    const problem = missingCode(variant, answer.text);
    if (problem) failures.push(fail(problem));
  }
  for (const secret of secrets) {
    if (!secret.value || !answer.text.includes(secret.value)) continue;
    const success = answer.status < 400;
    if (success && (secret.errorsOnly || secret.allowedOnSuccessOf?.test(variant.route.path))) continue;
    failures.push(fail(`${secret.name} echoed in the body`));
  }
  return failures;
}

/** The contract's error shapes: `code` in the platform's, `error.code` in OpenAI's. */
function missingCode(variant: Variant, text: string): string | null {
  let body: { code?: unknown; error?: { code?: unknown } } | null;
  try {
    body = JSON.parse(text);
  } catch {
    return 'error body is not JSON';
  }
  const platformCode = typeof body?.code === 'string' && body.code !== '' ? body.code : null;
  const openAiCode =
    typeof body?.error === 'object' && body.error !== null && ['string', 'number'].includes(typeof body.error.code)
      ? body.error.code
      : null;
  const path = variant.url.split('?')[0];
  if (isOpenAiRoute(variant.route.path)) return openAiCode !== null ? null : 'OpenAI error without error.code';
  // A mangled path under /api/v1 may match no route at all: that is OpenAI-shaped too.
  if (/^\/api\/v1(\/|$)/.test(path) && openAiCode !== null) return null;
  return platformCode ? null : 'error body without code';
}

export function redact(text: string, secrets: readonly Secret[]): string {
  let out = text;
  for (const s of secrets) if (s.value) out = out.split(s.value).join(`<${s.name}>`);
  return out;
}
