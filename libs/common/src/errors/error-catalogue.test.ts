import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AppError } from './app-error';
import { defaultCodeFor, ERROR_CATALOGUE, ErrorCode, isErrorCode, OpenAiErrorType } from './error-catalogue';
import { toErrorResponse } from './error-response';
import { anthropicTypeForStatus, errorBody, errorShapeFor } from './error-shape';

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

const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

describe('error catalogue', () => {
  it('gives each code exactly one status and one OpenAI type that fit each other', () => {
    for (const code of codes) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/, `${code} is a lower-snake code`);
      const { status, openAiType } = ERROR_CATALOGUE[code];
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: status ${status}`);
      const allowed = TYPES_BY_STATUS.find(([matches]) => matches(status))![1];
      assert.ok(allowed.includes(openAiType), `${code}: ${status} with OpenAI type ${openAiType}`);
    }
  });

  it('answers every code with its catalogue status, whoever throws it', () => {
    for (const code of codes) {
      const { status } = ERROR_CATALOGUE[code];
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
      assert.equal(ERROR_CATALOGUE[code].status, status, `default code of ${status}`);
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

    const res = toErrorResponse(new AppError('quota_exceeded', 'over'));
    assert.deepEqual(errorBody(res, 'openai', 'r1'), {
      error: { message: 'over', type: 'insufficient_quota', code: 'quota_exceeded', param: null },
    });
    assert.deepEqual(errorBody(res, 'platform', 'r1'), {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'quota_exceeded',
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
