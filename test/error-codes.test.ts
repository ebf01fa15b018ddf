/**
 * The error catalogue once every lib is loaded: common holds the generic codes, each lib registers its own in its
 * `<lib>.errors.ts` (loaded by its index.ts) and adds them to the `ErrorCodes` union. Checked here, without a
 * server: every code of the union (as the compiler sees it) has a registered entry, every code the contract names
 * is registered, and every entry's OpenAI type fits its status.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import '#libs/admin';
import '#libs/api-keys';
import '#libs/audit';
import '#libs/audit-read';
import '#libs/auth';
import '#libs/clerk';
import '#libs/config';
import '#libs/database';
import '#libs/gateway';
import '#libs/health';
import '#libs/http-edge';
import '#libs/installation';
import '#libs/journal';
import '#libs/metrics';
import '#libs/openrouter';
import '#libs/quota';
import '#libs/rate-limit';
import '#libs/reconciliation';
import '#libs/redis';
import '#libs/tenant-integration';
import '#libs/tenants';
import '#libs/usage';
import '#libs/users';
import '#libs/webhooks';
import {
  ANTHROPIC_ERROR_TYPES,
  AppError,
  ErrorCode,
  OPENAI_ERROR_TYPES,
  OpenAiErrorType,
  registeredErrorCodes,
  statusOf,
  toErrorResponse,
} from '#libs/common';

const ROOT = path.resolve(__dirname, '..', '..');

/** The libs this file loads (beside common): a lib added to libs/ must be added above. */
const LOADED_LIBS = [
  'admin',
  'api-keys',
  'audit',
  'audit-read',
  'auth',
  'clerk',
  'common',
  'config',
  'database',
  'gateway',
  'health',
  'http-edge',
  'installation',
  'journal',
  'metrics',
  'openrouter',
  'quota',
  'rate-limit',
  'reconciliation',
  'redis',
  'tenant-integration',
  'tenants',
  'usage',
  'users',
  'webhooks',
];

/** The OpenAI types a status may carry: the type follows from the status, so SDKs and status agree. */
const TYPES_BY_STATUS: [(status: number) => boolean, OpenAiErrorType[]][] = [
  [(s) => s === 401, ['authentication_error']],
  // OpenRouter's "insufficient credits", passed on: OpenAI SDKs read it as a quota error.
  [(s) => s === 402, ['insufficient_quota']],
  [(s) => s === 403, ['permission_error']],
  // OpenAI answers an unknown model 404 invalid_request_error `model_not_found`.
  [(s) => s === 404, ['not_found_error', 'invalid_request_error']],
  [(s) => s === 429, ['rate_limit_error', 'insufficient_quota']],
  [(s) => s >= 500, ['server_error']],
  [(s) => s >= 400 && s < 500, ['invalid_request_error']],
];

/** The members of `ErrorCodes` (so of the `ErrorCode` union) as the compiler merges them over the product's source. */
function codesOfTheUnion(): string[] {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  )!;
  const productFiles = config.fileNames.filter((f) => /[/\\](libs|apps)[/\\]/.test(f) && !f.endsWith('.test.ts'));
  const program = ts.createProgram(productFiles, { ...config.options, noEmit: true, incremental: false });
  const catalogue = program.getSourceFile(path.join(ROOT, 'libs/common/src/errors/error-catalogue.ts'));
  assert.ok(catalogue, 'the catalogue is part of the program');
  const checker = program.getTypeChecker();
  const declaration = catalogue.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'ErrorCodes',
  );
  assert.ok(declaration, 'ErrorCodes is declared in the catalogue');
  const type = checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(declaration.name)!);
  return checker.getPropertiesOfType(type).map((p) => p.name);
}

/** The backticked lower-snake codes docs/api-contract.md gives next to a status or as a `code`. */
function codesOfTheContract(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs/api-contract.md'), 'utf8').replace(/\s+/g, ' ');
  const code = '([a-z]+(?:_[a-z]+)+)';
  const patterns = [
    new RegExp(`\\b[45]\\d\\d \`${code}\``, 'g'), // 409 `slug_taken`
    new RegExp(`\`${code}\` [45]\\d\\d\\b`, 'g'), // `upstream_error` 502
    new RegExp(`"code": ?"${code}"`, 'g'), // "code": "quota_exceeded"
    new RegExp(`code:? \`${code}\``, 'g'), // code `tenant_budget_exceeded`
    new RegExp(`\`${code}\` / \`${code}\``, 'g'), // `api_key_already_revoked` / `api_key_already_expired`
  ];
  // The error shapes' `type`s sit next to statuses too; they are not codes.
  const types = new Set<string>([...OPENAI_ERROR_TYPES, ...ANTHROPIC_ERROR_TYPES]);
  const found = new Set<string>();
  for (const pattern of patterns)
    for (const match of text.matchAll(pattern)) for (const c of match.slice(1)) if (c) found.add(c);
  return [...found].filter((c) => !types.has(c)).sort();
}

describe('error codes, every lib loaded', () => {
  it('loads every lib', () => {
    const libs = fs
      .readdirSync(path.join(ROOT, 'libs'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    assert.deepEqual(libs, LOADED_LIBS);
  });

  it('has a registered entry for every code of the union, and nothing registered outside it', () => {
    const union = codesOfTheUnion().sort();
    assert.ok(union.includes('bad_request') && union.includes('slug_taken'), 'the union holds common and lib codes');
    const registered = [...registeredErrorCodes().keys()].sort();
    assert.deepEqual(
      union.filter((c) => !registered.includes(c)),
      [],
      'codes of the union that no lib registered (its index.ts does not load its errors file?)',
    );
    assert.deepEqual(registered, union);
  });

  it('registers each lib code under the lib whose errors file holds it, product codes outside common', () => {
    for (const [code, { owner }] of registeredErrorCodes()) {
      if (owner === 'common') continue;
      const file = path.join(ROOT, 'libs', owner, 'src', `${owner}.errors.ts`);
      assert.ok(fs.existsSync(file), `${code}: ${owner} has no ${owner}.errors.ts`);
      assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`\\b${code}:`), `${code} is in ${owner}.errors.ts`);
    }
    for (const code of ['slug_taken', 'last_owner', 'api_key_rotating', 'openrouter_key_disabled', 'budget_exceeded'])
      assert.notEqual(registeredErrorCodes().get(code)?.owner, 'common', code);
  });

  it('registers every code the contract names', () => {
    const named = codesOfTheContract();
    assert.ok(named.length >= 15, `found the contract's codes (${named.join(', ')})`);
    assert.deepEqual(
      named.filter((c) => !registeredErrorCodes().has(c)),
      [],
    );
  });

  it('gives each code one status and an OpenAI type that fits it, and answers it with that status', () => {
    for (const [code, { status, openAiType, owner }] of registeredErrorCodes()) {
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code} (${owner}): status ${status}`);
      const allowed = TYPES_BY_STATUS.find(([matches]) => matches(status))![1];
      assert.ok(allowed.includes(openAiType), `${code} (${owner}): ${status} with OpenAI type ${openAiType}`);
      const res = toErrorResponse(new AppError(code as ErrorCode, 'm'));
      assert.deepEqual([res.status, res.code], [status, code]);
    }
  });

  it('keeps upstream_error for a failure of OpenRouter: a 502, whatever status OpenRouter answered', () => {
    assert.equal(statusOf('upstream_error'), 502);
    const upstream = [...registeredErrorCodes()].filter(([code]) => code.startsWith('upstream_'));
    assert.deepEqual(
      upstream.filter(([, { status }]) => status >= 500).map(([code, { status }]) => `${code} ${status}`),
      ['upstream_unavailable 502', 'upstream_bad_response 502', 'upstream_error 502', 'upstream_timeout 504'],
    );
  });
});
