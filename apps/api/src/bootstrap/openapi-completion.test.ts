import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenAPIObject } from '@nestjs/swagger';
import { completeDocument } from './openapi-completion';

const op = (extra: Record<string, unknown> = {}) => ({ responses: { '200': { description: 'OK' } }, ...extra });

function documentOf(paths: Record<string, Record<string, unknown>>): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 't', version: '1' }, paths, components: {} } as unknown as OpenAPIObject;
}

const protectedRoute = () => ({ isPublic: false, kinds: ['api_key', 'api_key_bearer'] });
const ref = (doc: OpenAPIObject, path: string, status: string, method = 'post') =>
  (doc.paths[path] as any)[method].responses[status].content['application/json'].schema.$ref;

describe('completeDocument', () => {
  it("gives each route its error shape: Anthropic's on /api/v1/messages, OpenAI's on the OpenAI routes", () => {
    const doc = completeDocument(
      documentOf({
        '/api/v1/messages': { post: op({ requestBody: { content: {} } }) },
        '/api/v1/chat/completions': { post: op({ requestBody: { content: {} } }) },
        '/api/v1/me': { get: op() },
      }),
      protectedRoute,
    );
    assert.equal(ref(doc, '/api/v1/messages', '401'), '#/components/schemas/AnthropicError');
    assert.equal(ref(doc, '/api/v1/messages', '400'), '#/components/schemas/AnthropicError');
    assert.equal(ref(doc, '/api/v1/chat/completions', '429'), '#/components/schemas/OpenAiError');
    assert.equal(ref(doc, '/api/v1/me', '403', 'get'), '#/components/schemas/PlatformError');
    assert.ok(doc.components?.schemas?.AnthropicError);
  });

  it('declares errors from the auth policy, the body and the parameters; none it cannot answer', () => {
    const doc = completeDocument(
      documentOf({
        '/api/health': { get: op() },
        '/api/things/{thingId}': { patch: op({ requestBody: { content: {} } }) },
      }),
      (_method, path) => (path === '/api/health' ? { isPublic: true, kinds: [] } : protectedRoute()),
    );
    const health = (doc.paths['/api/health'] as any).get;
    assert.deepEqual(Object.keys(health.responses).sort(), ['200', '500']);
    assert.deepEqual(health.security, []);
    const patch = (doc.paths['/api/things/{thingId}'] as any).patch;
    assert.deepEqual(Object.keys(patch.responses).sort(), ['200', '400', '401', '403', '404', '413', '429', '500']);
    assert.deepEqual(patch.parameters, [{ name: 'thingId', in: 'path', required: true, schema: { type: 'string' } }]);
    assert.deepEqual(patch.security, [{ api_key: [] }, { api_key_bearer: [] }]);
  });

  it('names the models wildcard {model}', () => {
    const doc = completeDocument(
      documentOf({
        '/api/v1/models/{path}': { get: op({ parameters: [{ name: 'path', in: 'path', required: true }] }) },
      }),
      protectedRoute,
    );
    assert.deepEqual(Object.keys(doc.paths), ['/api/v1/models/{model}']);
    const params = (doc.paths['/api/v1/models/{model}'] as any).get.parameters;
    assert.deepEqual(
      params.map((p: any) => [p.name, p.schema.type]),
      [['model', 'string']],
    );
  });
});
