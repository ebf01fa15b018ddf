/** Sends variants with bounded concurrency, adding the credentials each route takes. */
import { Webhook } from 'svix';
import { signClerkToken } from '../support/clerk-tokens';
import type { Answer } from './verdict';
import type { Variant } from './variants';

export interface Credentials {
  clerkToken: string;
  clerkClaims: Record<string, unknown>;
  apiKey: string;
  webhookSecret: string;
}

export async function send(baseUrl: string, variant: Variant, creds: Credentials): Promise<Answer> {
  const headers: Record<string, string> = { ...variant.headers };
  const body = variant.body;
  if (variant.credentials === 'valid') {
    switch (variant.route.auth) {
      case 'clerk':
        headers.authorization = `Bearer ${
          variant.claims ? signClerkToken({ ...creds.clerkClaims, ...variant.claims } as never) : creds.clerkToken
        }`;
        break;
      case 'api_key':
        headers['x-api-key'] = creds.apiKey;
        break;
      case 'webhook': {
        const id = `msg_battery_${Math.random().toString(36).slice(2)}`;
        const at = new Date();
        const payload = body === undefined ? '' : typeof body === 'string' ? body : body.toString('latin1');
        headers['svix-id'] = id;
        headers['svix-timestamp'] = String(Math.floor(at.getTime() / 1000));
        headers['svix-signature'] = new Webhook(creds.webhookSecret).sign(id, at, payload);
        break;
      }
    }
  }
  try {
    const res = await fetch(baseUrl + variant.url, {
      method: variant.route.method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return {
      status: 0,
      text: '',
      transportError: `${e.message}${e.cause ? `: ${e.cause.code ?? e.cause.message}` : ''}`,
    };
  }
}

/** Runs `work` over `items`, at most `limit` at a time, in order of start. */
export async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
