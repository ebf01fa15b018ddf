/**
 * The bad-input battery: for every route of the live OpenAPI document, hostile variants of a valid request
 * (wrong types, NUL, lone surrogates, deep nesting, huge strings and numbers, bad dates, unknown fields, wrong
 * content types, bad path and query parameters, hostile token claims), generated with fast-check from the
 * route's schema under fixed seeds, sent with valid credentials and without. It fails on any 5xx, any error
 * body without its code (`code`, or `error.code` on the OpenAI routes) and any secret echoed in a body, and
 * lists every such answer with its route, variant and status.
 *
 * It runs on whichever database the harness gives (TEST_DATABASE_URL / TEST_REDIS_URL set or not).
 * BATTERY_SEED changes the seeds; BATTERY_CONCURRENCY the requests in flight (default 4).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { baselineFor, type BatteryIds } from './battery/baseline';
import { routesOf } from './battery/openapi-routes';
import { inPool, send, type Credentials } from './battery/send';
import { CANARY, SEED, variantsFor, type Variant } from './battery/variants';
import { judge, type Failure, type Secret } from './battery/verdict';
import { redisAvailable, startApp, type TestApp } from './support/app';
import { signClerkToken } from './support/clerk-tokens';
import { FakeOpenRouter } from './support/fake-openrouter';
import { newClerkUser } from './support/users';

const CONCURRENCY = Number(process.env.BATTERY_CONCURRENCY ?? 4);
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

describe('bad-input battery', () => {
  const fake = new FakeOpenRouter();
  const owner = newClerkUser();
  // One session for the whole run (no login per request), valid for longer than the battery takes.
  const ownerClaims = {
    ...owner,
    sid: `sess_${randomUUID().replace(/-/g, '')}`,
    exp: Math.floor(Date.now() / 1000) + 3600,
  };
  const ownerToken = signClerkToken(ownerClaims);
  const auth = { authorization: `Bearer ${ownerToken}` };
  let app: TestApp;

  before(async () => {
    await fake.start();
    app = await startApp({
      inProcess: true,
      openRouter: fake,
      redis: redisAvailable(),
      startTimeoutMs: 180_000,
      env: {
        PLATFORM_ADMIN_USER_IDS: owner.sub,
        CLERK_WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET,
        // The battery's own unauthenticated variants must not lock its address out.
        AUTH_FAILURES_PER_MINUTE: '1000000',
        LOG_LEVEL: 'warn',
      },
    });
  });
  after(async () => {
    await app?.stop();
    await fake.stop();
  });

  async function call(method: string, path: string, body?: unknown): Promise<any> {
    const res = await app.request(method, path, { headers: auth, body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  it('answers every hostile variant of every documented route with a coded 4xx (or a 2xx), never a 5xx or a secret', async () => {
    const me = await call('GET', '/api/users/me');
    const tenantId: string = me.tenant.id;
    const members = `/api/tenants/${tenantId}/members`;
    const member = await call('POST', members, { email: `battery-m1-${randomUUID().slice(0, 8)}@example.test` });
    const v1Member = await call('POST', members, { email: `battery-m2-${randomUUID().slice(0, 8)}@example.test` });
    const keys = `/api/tenants/${tenantId}/api-keys`;
    const credentialKey = await call('POST', keys, { name: 'battery', rate_limit_per_minute: 10_000_000 });
    const targetKey = await call('POST', keys, { name: 'battery target' });
    const ids: BatteryIds = {
      ownerUserId: me.id,
      ownerClerkId: owner.sub,
      tenantId,
      targetKeyId: targetKey.id,
      memberUserId: member.user_id,
      v1MemberUserId: v1Member.user_id,
    };
    const creds: Credentials = {
      clerkToken: ownerToken,
      clerkClaims: ownerClaims,
      apiKey: credentialKey.key,
      webhookSecret: WEBHOOK_SECRET,
    };

    const docs = await app.request('GET', '/api/docs-json');
    assert.equal(docs.status, 200);
    const routes = routesOf(docs.body);
    assert.ok(routes.length >= 30, `the document lists the routes (${routes.length})`);

    const variants: Variant[] = routes.flatMap((route, i) => {
      if (route.auth !== 'webhook') return variantsFor(route, baselineFor(route, ids, i));
      // The webhook stores three kinds of event; each gets its own variants.
      return [0, 1, 2].flatMap((kind) => variantsFor(route, baselineFor(route, ids, kind)));
    });

    const secrets = (): Secret[] => [
      { name: 'API key', value: credentialKey.key },
      { name: 'target API key', value: targetKey.key },
      { name: 'Clerk token', value: ownerToken },
      { name: 'provisioning key', value: fake.provisioningKey },
      { name: 'webhook secret', value: WEBHOOK_SECRET },
      { name: 'secret-shaped canary', value: CANARY, errorsOnly: true },
      // The user's own OpenRouter keys are shown to the user (and only there).
      ...fake.keys.map((k) => ({ name: 'OpenRouter key', value: k.key, allowedOnSuccessOf: /^\/api\/users\/me/ })),
    ];

    const failures: Failure[] = [];
    const statuses = new Map<string, number>();
    const sentBy = { valid: 0, none: 0 };
    // Valid requests the service refuses by rule (a personal tenant is not deleted, say): shown, not failed.
    const refusedBaselines: string[] = [];
    await inPool(variants, CONCURRENCY, async (variant) => {
      const answer = await send(app.baseUrl, variant, creds);
      sentBy[variant.credentials]++;
      const klass = answer.transportError ? 'no answer' : `${Math.floor(answer.status / 100)}xx`;
      statuses.set(klass, (statuses.get(klass) ?? 0) + 1);
      failures.push(...judge(variant, answer, secrets()));
      if (
        variant.category === 'valid' &&
        variant.credentials === 'valid' &&
        (answer.status < 200 || answer.status >= 300)
      )
        refusedBaselines.push(`${variant.route.method} ${variant.route.path} → ${answer.status}`);
    });

    const database = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite';
    console.log(
      `bad-input battery: ${variants.length} variants of ${routes.length} routes sent on ${database}` +
        `${redisAvailable() ? ' + Redis' : ''} (seed ${SEED}; ${sentBy.valid} with credentials, ${sentBy.none} without);` +
        ` answers ${[...statuses].map(([k, n]) => `${k}: ${n}`).join(', ')}; ${failures.length} failures`,
    );
    console.log(`valid requests refused by a rule: ${refusedBaselines.join('; ') || 'none'}`);
    if (failures.length) console.log(report(failures));
    assert.equal(failures.length, 0, `the battery found ${failures.length} bad answers:\n${report(failures)}`);
  });
});

/** Every failure, grouped by route and problem, each with its variant and status. */
function report(failures: Failure[]): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = `${f.variant.route.method} ${f.variant.route.path} — ${f.problem}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lines: string[] = [];
  for (const [key, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${key} (${list.length})`);
    for (const f of list)
      lines.push(
        `    [${f.variant.category}${f.variant.credentials === 'none' ? ', no credentials' : ''}] ${f.variant.label}` +
          ` → ${f.status} ${f.excerpt.replace(/\s+/g, ' ').slice(0, 160)}`,
      );
  }
  return lines.join('\n');
}
