import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AppError } from './app-error';
import {
  defaultCodeFor,
  errorEntry,
  ErrorCode,
  isErrorCode,
  openAiTypeForStatus,
  registerErrorCodes,
  registeredErrorCodes,
  statusOf,
} from './error-catalogue';
import { toErrorResponse } from './error-response';
import { anthropicTypeForStatus, errorBody, errorShapeFor } from './error-shape';

// Only common's own codes here (the libs' codes are checked in test/error-codes.test.ts); other specs sharing the
// process may have registered their libs' codes too.
const commonEntries = () => [...registeredErrorCodes()].filter(([, entry]) => entry.owner === 'common');
const codes = commonEntries().map(([code]) => code) as ErrorCode[];

describe('error catalogue', () => {
  it('holds the generic codes of HTTP and the platform, owned by common', () => {
    assert.ok(codes.length >= 20, `${codes.length} codes`);
    for (const code of ['bad_request', 'validation_failed', 'unauthenticated', 'not_found', 'internal_error'])
      assert.ok(codes.includes(code as ErrorCode), code);
    assert.ok(!codes.includes('slug_taken' as ErrorCode), 'a product code belongs to its lib, not to common');
  });

  it('gives each generic code one status and the OpenAI type OpenAI gives that status', () => {
    for (const [code, { status, openAiType }] of commonEntries()) {
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: status ${status}`);
      assert.equal(openAiType, openAiTypeForStatus(status), code);
    }
  });

  it('refuses a code registered twice, with another status or the same one, by another owner or the same', () => {
    assert.throws(() => registerErrorCodes('somelib', { not_found: errorEntry(410, 'invalid_request_error') }), {
      message: /"not_found" is registered twice: by common \(404\) and by somelib \(410\)/,
    });
    assert.throws(() => registerErrorCodes('somelib', { conflict: errorEntry(409, 'invalid_request_error') }), {
      message: /"conflict" is registered twice/,
    });
    assert.throws(() => registerErrorCodes('common', { forbidden: errorEntry(403, 'permission_error') }), {
      message: /"forbidden" is registered twice/,
    });
    assert.throws(() => registerErrorCodes('somelib', { 'Not-Snake': errorEntry(400, 'invalid_request_error') }), {
      message: /not lower-snake/,
    });
    assert.throws(
      () =>
        registerErrorCodes('somelib', {
          somelib_new: errorEntry(409, 'invalid_request_error'),
          not_found: errorEntry(404, 'not_found_error'),
        }),
      { message: /"not_found" is registered twice/ },
    );
    assert.equal(statusOf('not_found'), 404, 'a refused registration changes nothing');
    assert.equal(isErrorCode('somelib_new'), false, 'nor adds the other codes it named');
  });

  it('answers a code nobody registered as a wiring bug: a 500 that names no status of its own', () => {
    const stray = 'never_registered' as ErrorCode;
    assert.throws(() => statusOf(stray), { message: /"never_registered" is not registered/ });
    const res = toErrorResponse(new AppError(stray, 'm'));
    assert.deepEqual([res.status, res.code, res.unexpected], [500, 'internal_error', true]);
  });

  it('answers every code with its catalogue status, whoever throws it', () => {
    for (const code of codes) {
      const status = statusOf(code);
      assert.equal(new AppError(code, 'm').status, status, code);
      assert.deepEqual(
        [toErrorResponse(new AppError(code, 'm')).status, toErrorResponse(new AppError(code, 'm')).code],
        [status, code],
      );
      // A framework exception naming a catalogue code cannot give it another status.
      const framework = toErrorResponse(new HttpException({ code, message: 'm' }, status === 418 ? 400 : 418));
      assert.deepEqual([framework.status, framework.code], [status, code], `HttpException with ${code}`);
    }
  });

  it('maps framework exceptions to catalogue codes of the same status', () => {
    for (const status of [400, 401, 403, 404, 405, 406, 408, 409, 413, 415, 422, 429, 431, 500, 502, 503, 504]) {
      const code = defaultCodeFor(status);
      assert.ok(isErrorCode(code));
      assert.equal(statusOf(code), status, `default code of ${status}`);
      assert.equal(registeredErrorCodes().get(code)?.owner, 'common', `default code of ${status} is generic`);
    }
    assert.deepEqual(pick(toErrorResponse(new NotFoundException('Cannot GET /api/nope'))), [404, 'not_found']);
    assert.deepEqual(pick(toErrorResponse(new PayloadTooLargeException())), [413, 'payload_too_large']);
    assert.deepEqual(pick(toErrorResponse(new BadRequestException(['name must be a string']))), [
      400,
      'validation_failed',
    ]);
    assert.deepEqual(pick(toErrorResponse(new Error('boom'))), [500, 'internal_error']);
    const notJson = Object.assign(new Error(`Unexpected token 'u', "umk_secretsecret" is not valid JSON`), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    const res = toErrorResponse(notJson);
    assert.deepEqual(pick(res), [400, 'invalid_json']);
    assert.doesNotMatch(res.message, /umk_/, 'the body is never quoted back');
  });

  it('shapes errors by route: OpenAI on the OpenAI-compatible routes and unknown /api/v1 routes', () => {
    const openAi = ['/api/v1/chat/completions', '/api/v1/completions?x=1', '/api/v1/embeddings', '/api/v1/models'];
    for (const url of [...openAi, '/api/v1/models/openai/gpt-4o-mini'])
      assert.equal(errorShapeFor(url, true), 'openai', url);
    for (const url of ['/api/v1/nope', '/api/v1', '/api/v1/me/extra'])
      assert.equal(errorShapeFor(url, false), 'openai', url);
    for (const url of ['/api/v1/me', '/api/v1/users/x', '/api/v1/usage', '/api/users/me', '/api/v1x'])
      assert.equal(errorShapeFor(url, true), 'platform', url);
    assert.equal(errorShapeFor('/api/nope', false), 'platform');
    assert.equal(errorShapeFor('/api/v1/chat/completionsx', true), 'platform');

    const res = toErrorResponse(new AppError('rate_limited', 'over'));
    assert.deepEqual(errorBody(res, 'openai', 'r1'), {
      error: { message: 'over', type: 'rate_limit_error', code: 'rate_limited', param: null },
    });
    assert.deepEqual(errorBody(res, 'platform', 'r1'), {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'rate_limited',
      message: 'over',
      request_id: 'r1',
    });
  });

  it("shapes errors in Anthropic's shape on /api/v1/messages (and below it), with the contract's type per status", () => {
    for (const url of ['/api/v1/messages', '/api/v1/messages?beta=true'])
      assert.equal(errorShapeFor(url, true), 'anthropic', url);
    assert.equal(errorShapeFor('/api/v1/messages/count_tokens', false), 'anthropic');
    assert.equal(errorShapeFor('/api/v1/messagesx', true), 'platform');
    assert.equal(errorShapeFor('/api/v1/responses', true), 'openai');
    const expected: [number, string][] = [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [402, 'invalid_request_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'invalid_request_error'],
      [429, 'rate_limit_error'],
      [500, 'api_error'],
      [502, 'api_error'],
      [504, 'api_error'],
    ];
    assert.deepEqual(
      expected.map(([status]) => [status, anthropicTypeForStatus(status)]),
      expected,
    );
    for (const code of codes) {
      const res = toErrorResponse(new AppError(code, 'm'));
      assert.deepEqual(errorBody(res, 'anthropic', 'r1'), {
        type: 'error',
        error: { type: anthropicTypeForStatus(res.status), message: 'm', code },
      });
    }
  });
});

function pick(res: { status: number; code: string }): [number, string] {
  return [res.status, res.code];
}

/**
 * Throw sites name a code; the catalogue alone chooses statuses. These patterns would choose one at the
 * throw site (or answer an error body by hand), so they may not appear in the product's source.
 */
const STATUS_AT_THROW_SITE: [RegExp, string][] = [
  [/new\s+AppError\s*\(\s*\d/, 'AppError takes a catalogue code, not a status'],
  [/new\s+HttpException\s*\(/, 'throw an AppError with a catalogue code instead of an HttpException'],
  [
    /new\s+(BadRequest|Unauthorized|Forbidden|NotFound|Conflict|Gone|PayloadTooLarge|UnsupportedMediaType|UnprocessableEntity|InternalServerError|ServiceUnavailable|BadGateway|GatewayTimeout|RequestTimeout|NotAcceptable|MethodNotAllowed|PreconditionFailed|ImATeapot|Misdirected|NotImplemented|HttpVersionNotSupported)Exception\s*\(/,
    'Nest HTTP exceptions choose a status by class; throw an AppError with a catalogue code',
  ],
  [/\.(status|code)\(\s*[45]\d\d\s*\)/, 'an error answered by hand skips the catalogue; throw an AppError'],
  [/statusCode\s*:\s*[45]\d\d\b/, 'an error body built by hand skips the catalogue; throw an AppError'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')
      ? [full]
      : [];
  });
}

describe('throw sites', () => {
  it('never choose a status (the scan finds the product source and flags nothing)', () => {
    // The test runs with the repository root as its working directory (scripts/run-tests.js).
    const root = process.cwd();
    const files = ['libs', 'apps'].flatMap((dir) => sourceFiles(join(root, dir)));
    assert.ok(files.length > 50, `found the product source (${files.length} files under ${root})`);
    const offences: string[] = [];
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const [pattern, why] of STATUS_AT_THROW_SITE)
          if (pattern.test(line)) offences.push(`${relative(root, file)}:${i + 1}: ${why}\n    ${line.trim()}`);
      });
    }
    assert.deepEqual(offences, [], offences.join('\n'));
  });

  it('flags each forbidden pattern (the scan is not vacuous)', () => {
    const samples = [
      "throw new AppError(409, 'api_key_revoked', 'x');",
      "throw new HttpException('x', 400);",
      'throw new ConflictException();',
      'void reply.status(401).send({ message: "no" });',
      'reply.code(503).send(body);',
      'return { statusCode: 404, error: "Not Found" };',
    ];
    for (const sample of samples)
      assert.ok(
        STATUS_AT_THROW_SITE.some(([p]) => p.test(sample)),
        sample,
      );
    assert.ok(!STATUS_AT_THROW_SITE.some(([p]) => p.test("throw new AppError('api_key_revoked', 'x');")));
  });
});
