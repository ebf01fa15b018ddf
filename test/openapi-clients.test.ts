/**
 * The OpenAPI document generates correct clients: openapi-typescript turns /api/docs-json into types, and a small
 * client compiled against them (tsc) needs every path parameter, reads nullable fields as nullable scalars and
 * reads each error's shape; a client that leaves out a path parameter does not compile. The document also
 * passes an OpenAPI linter (Redocly's recommended rules) without errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startApp, type TestApp } from './support/app';

const BIN = (pkg: string, file: string) => path.join(REPO_ROOT, 'node_modules', pkg, file);

function run(args: string[], cwd: string) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
type Doc = {
  servers?: { url: string }[];
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any> };
};

/** Every operation of the document with its path and method. */
function operations(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ path: p, method: m, op: item[m] })),
  );
}

/** Every schema object under `value` (properties, items, compositions). */
function* schemas(value: unknown): Generator<Record<string, any>> {
  if (!value || typeof value !== 'object') return;
  if (!Array.isArray(value)) yield value as Record<string, any>;
  for (const child of Object.values(value)) yield* schemas(child);
}

const CLIENT = `
import type { components, paths } from './schema';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Me = Json<paths['/api/users/me']['get']['responses'][200]>;
type CreateKey = paths['/api/tenants/{tenantId}/api-keys']['post'];
type CreatedKey = Json<CreateKey['responses'][201]>;
type Unauthorized = Json<paths['/api/users/me']['get']['responses'][401]>;
type ChatError = Json<paths['/api/v1/chat/completions']['post']['responses'][401]>;
type Model = paths['/api/v1/models/{model}']['get']['parameters']['path'];

export async function createKey(base: string, token: string, tenantIdOrSlug: string): Promise<string> {
  const path: CreateKey['parameters']['path'] = { tenantId: tenantIdOrSlug };
  const res = await fetch(\`\${base}/api/tenants/\${path.tenantId}/api-keys\`, {
    method: 'POST',
    headers: { authorization: \`Bearer \${token}\`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci' }),
  });
  if (!res.ok) {
    const error = (await res.json()) as Unauthorized;
    const code: string = error.code;
    const requestId: string = error.request_id;
    throw new Error(\`\${error.statusCode} \${code} \${requestId}\`);
  }
  const key = (await res.json()) as CreatedKey;
  const quota: number | null = key.token_quota;
  const expires: string | null = key.expires_at;
  return \`\${key.key} \${quota ?? 'unlimited'} \${expires ?? 'never'}\`;
}

export function describeMe(me: Me): string {
  const email: string | null = me.email;
  const image: string | null = me.image_url;
  return \`\${email ?? '-'} \${image ?? '-'}\`;
}

export function chatErrorCode(error: ChatError): string | null | undefined {
  return error.error.code;
}

export const model: Model = { model: 'openai/gpt-4o-mini' };
export type Schemas = keyof components['schemas'];
`;

/** The same client without the path parameter: it must not compile. */
const BROKEN_CLIENT = `
import type { paths } from './schema';
export const path: paths['/api/tenants/{tenantId}/api-keys']['post']['parameters']['path'] = {};
`;

describe('OpenAPI document', () => {
  let app: TestApp;
  let doc: Doc;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umb-openapi-'));

  before(async () => {
    app = await startApp({ inProcess: true });
    const res = await app.request('GET', '/api/docs-json');
    assert.equal(res.status, 200);
    doc = res.body;
    fs.writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
  });
  after(async () => {
    await app?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('declares servers, every path parameter, and names the model parameter {model}', () => {
    assert.ok(doc.servers?.length, 'servers');
    assert.ok(doc.paths['/api/v1/models/{model}'], Object.keys(doc.paths).join('\n'));
    for (const { path: p, method, op } of operations(doc)) {
      for (const [, name] of p.matchAll(/\{([^}]+)\}/g)) {
        const param = (op.parameters ?? []).find((x: any) => x.in === 'path' && x.name === name);
        assert.ok(param, `${method} ${p}: {${name}} declared`);
        assert.equal(param.schema?.type, 'string', `${method} ${p}: {${name}} typed`);
      }
    }
  });

  it('types nullable fields as nullable scalars, never as a bare object', () => {
    const bare = [...schemas(doc.components.schemas)]
      .filter((s) => s.nullable && s.type === 'object' && !s.properties && !s.additionalProperties && !s.allOf)
      .map((s) => JSON.stringify(s));
    assert.deepEqual(bare, []);
  });

  it("describes every response and each operation's errors with their schema", () => {
    for (const { path: p, method, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${p}`;
      for (const [status, response] of Object.entries<any>(op.responses)) {
        assert.ok(response.description, `${where} ${status}: description`);
        if (Number(status) >= 400)
          assert.match(
            response.content?.['application/json']?.schema?.$ref ?? '',
            /Error(Dto)?$/,
            `${where} ${status}`,
          );
      }
      assert.ok(op.responses[500], `${where}: 500`);
      if (op.security?.length) for (const s of ['401', '403', '429']) assert.ok(op.responses[s], `${where}: ${s}`);
      if (op.requestBody) assert.ok(op.responses[400], `${where}: 400`);
      const errorRef = op.responses[500].content['application/json'].schema.$ref;
      const expected = /^\/api\/v1\/(chat\/completions|completions|embeddings|responses|models)/.test(p)
        ? 'OpenAiError'
        : p.startsWith('/api/v1/messages')
          ? 'AnthropicError'
          : 'PlatformError';
      assert.match(errorRef, new RegExp(`^#/components/schemas/${expected}(Dto)?$`), where);
    }
    // A route without an auth decorator takes Clerk sessions: the document says so, with its errors.
    assert.deepEqual(doc.paths['/api/users/me'].get.security, [{ clerk: [] }]);
    assert.ok(doc.paths['/api/users/me'].get.responses['401']);
    assert.deepEqual(doc.paths['/api/health'].get.security, [], 'public');
    const platform = doc.components.schemas.PlatformError;
    assert.deepEqual(platform.required, ['statusCode', 'error', 'code', 'message', 'request_id']);
  });

  it('generates TypeScript types a client compiles against; a client missing a path parameter does not', async () => {
    const generated = await run(
      [BIN('openapi-typescript', 'bin/cli.js'), 'openapi.json', '--output', 'schema.ts'],
      dir,
    );
    assert.equal(generated.code, 0, generated.output);
    fs.writeFileSync(path.join(dir, 'client.ts'), CLIENT);
    const tsc = (file: string) =>
      run(
        [
          BIN('typescript', 'bin/tsc'),
          '--noEmit',
          '--strict',
          '--target',
          'ES2022',
          '--module',
          'nodenext',
          '--lib',
          'ES2022,DOM',
          file,
        ],
        dir,
      );
    const compiled = await tsc('client.ts');
    assert.equal(compiled.code, 0, compiled.output);
    fs.writeFileSync(path.join(dir, 'broken.ts'), BROKEN_CLIENT);
    const broken = await tsc('broken.ts');
    assert.notEqual(broken.code, 0);
    assert.match(broken.output, /tenantId/);
  });

  it('passes the OpenAPI linter (Redocly, recommended rules) without errors', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by the one test that needs it
    const redocly = require('@redocly/openapi-core') as typeof import('@redocly/openapi-core');
    const config = await redocly.createConfig({ extends: ['recommended'] });
    const problems = await redocly.lint({ ref: path.join(dir, 'openapi.json'), config });
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    assert.deepEqual(errors, []);
  });
});
