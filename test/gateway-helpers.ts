/** Shared steps of the gateway tests: a signed-in user with a tenant API key, and chat calls through the gateway. */
import assert from 'node:assert/strict';
import type { TestApp } from './support/app';
import { fixedSession, newClerkUser } from './support/users';

export interface TenantKey {
  key: string;
  keyId: string;
  userId: string;
  tenantId: string;
  /** The user's OpenRouter key as /api/users/me shows it after login (null when provisioning failed). */
  openRouterKey: string | null;
  session: () => Record<string, string>;
}

/** A new Clerk user (new personal tenant) and an API key of that tenant created through the real route. */
export async function newTenantKey(app: TestApp, settings: Record<string, unknown> = {}): Promise<TenantKey> {
  const session = fixedSession(newClerkUser());
  const me = await app.request('GET', '/api/users/me', { headers: session() });
  assert.equal(me.status, 200, me.text);
  const created = await app.request('POST', `/api/tenants/${me.body.tenant.id}/api-keys`, {
    headers: session(),
    body: { name: 'gateway test', rate_limit_per_minute: 1_000_000, ...settings },
  });
  assert.equal(created.status, 201, created.text);
  return {
    key: created.body.key,
    keyId: created.body.id,
    userId: me.body.id,
    tenantId: me.body.tenant.id,
    openRouterKey: me.body.openrouter_api_key,
    session,
  };
}

/** Another key of the same tenant. */
export async function anotherKey(
  app: TestApp,
  of: TenantKey,
  settings: Record<string, unknown> = {},
): Promise<TenantKey> {
  const created = await app.request('POST', `/api/tenants/${of.tenantId}/api-keys`, {
    headers: of.session(),
    body: { name: 'gateway test 2', rate_limit_per_minute: 1_000_000, ...settings },
  });
  assert.equal(created.status, 201, created.text);
  return { ...of, key: created.body.key, keyId: created.body.id };
}

export type AuthStyle = 'x-api-key' | 'bearer';

export function keyHeaders(key: string, style: AuthStyle = 'x-api-key'): Record<string, string> {
  return style === 'bearer' ? { authorization: `Bearer ${key}` } : { 'x-api-key': key };
}

export function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], ...extra };
}

/** POST /api/v1/chat/completions with fetch, the response left unread (for streams). */
export function postChat(
  app: TestApp,
  key: string,
  body: unknown = chatBody(),
  opts: { style?: AuthStyle; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${app.baseUrl}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...keyHeaders(key, opts.style) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: opts.signal,
  });
}

/** Polls until `check` holds (background writes, upstream deletions); fails with the last value otherwise. */
export async function eventually<T>(
  read: () => Promise<T> | T,
  check: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}
