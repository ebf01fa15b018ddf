/**
 * Hostile variants of one valid request per route, generated with fast-check from the route's schema: each
 * category is sampled with its own fixed seed (derived from the route and the category), so the battery sends
 * the same requests on every run and a new route does not change the others' variants.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  badDate,
  badJsonText,
  deepNesting,
  hostileHeaderValue,
  hostileParam,
  hugeNumber,
  hugeString,
  junkString,
  Raw,
  unknownFieldName,
  withLoneSurrogate,
  withNul,
  wrongContentType,
  wrongType,
} from './hostile-values';
import type { JsonSchema, Route } from './openapi-routes';

export type Credentials = 'valid' | 'none';

export interface Variant {
  route: Route;
  category: string;
  label: string;
  credentials: Credentials;
  /** Path and query, percent-encoded. */
  url: string;
  /** Headers besides the credentials (added when the variant is sent). */
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Claims of a validly signed Clerk token to send instead of the caller's (hostile claims). */
  claims?: Record<string, unknown>;
}

/** A valid request of the route: what the variants start from. */
export interface Baseline {
  pathValues: Record<string, string>;
  query: Record<string, string>;
  body?: Record<string, unknown>;
  /** Leaf paths of the body (and schema properties absent from it) the mutations aim at. */
  fields: string[][];
  dateFields: string[][];
}

export const SEED = Number(process.env.BATTERY_SEED ?? 20261126);

function seedFor(...parts: string[]): number {
  return (SEED ^ createHash('sha256').update(parts.join(' ')).digest().readInt32BE(0)) | 0;
}

function sample<T>(arb: fc.Arbitrary<T>, runs: number, ...seedParts: string[]): T[] {
  return fc.sample(arb, { seed: seedFor(...seedParts), numRuns: runs });
}

/** Sets `value` at `path` on a deep copy; `__proto__` and friends become own, enumerable properties. */
function withValue(body: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(target, key) ? target[key] : undefined;
    const child = typeof next === 'object' && next !== null ? next : {};
    Object.defineProperty(target, key, { value: child, enumerable: true, writable: true, configurable: true });
    target = child as Record<string, unknown>;
  }
  Object.defineProperty(target, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** JSON text of a body that may hold Raw pieces. */
export function encodeBody(body: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(body, (_key, value: unknown) => {
    if (value instanceof Raw) {
      raws.push(value.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    return value;
  });
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]);
}

export function buildUrl(
  route: Route,
  pathValues: Record<string, string>,
  query: Record<string, string> | string,
): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => pathValues[name]);
  const qs =
    typeof query === 'string'
      ? query
      : Object.entries(query)
          .map(([k, v]) => `${encodeURIComponent(k)}=${v}`)
          .join('&');
  return qs ? `${path}?${qs}` : path;
}

function show(value: unknown): string {
  if (value instanceof Raw)
    return value.text.length > 40 ? `${value.text.slice(0, 20)}… (${value.text.length} chars)` : value.text;
  if (Buffer.isBuffer(value)) return `bytes ${value.toString('hex')}`;
  const text = JSON.stringify(value) ?? String(value);
  const escaped = text.replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return escaped.length > 60 ? `${escaped.slice(0, 40)}… (${escaped.length} chars)` : escaped;
}

/** How many samples each category takes per route (and field), kept small so that CI stays fast. */
export interface BatterySize {
  perField: number;
  perCategory: number;
  withoutCredentials: number;
}

export const DEFAULT_SIZE: BatterySize = { perField: 1, perCategory: 2, withoutCredentials: 4 };

export function variantsFor(route: Route, base: Baseline, size: BatterySize = DEFAULT_SIZE): Variant[] {
  const id = `${route.method} ${route.path}`;
  const out: Variant[] = [];
  const url = (pathValues = base.pathValues, query: Record<string, string> | string = base.query) =>
    buildUrl(route, pathValues, query);
  const json = { 'content-type': 'application/json' };
  const push = (v: Omit<Variant, 'route' | 'credentials'> & { credentials?: Credentials }) =>
    out.push({ route, credentials: 'valid', ...v });

  push({
    category: 'valid',
    label: 'the valid request',
    url: url(),
    headers: base.body ? json : {},
    body: base.body && encodeBody(base.body),
  });

  if (base.body) {
    const body = base.body;
    // Each field gets a NUL and a lone surrogate (the classic 500s), then samples of every other kind.
    const otherKinds: fc.Arbitrary<[string, unknown]> = fc.oneof(
      wrongType.map((v): [string, unknown] => ['wrong type', v]),
      deepNesting.map((v): [string, unknown] => ['deep nesting', v]),
      hugeString.map((v): [string, unknown] => ['huge string', v]),
      hugeNumber.map((v): [string, unknown] => ['huge number', v]),
      junkString.map((v): [string, unknown] => ['junk string', v]),
      badDate.map((v): [string, unknown] => ['bad date', v]),
    );
    for (const field of base.fields) {
      const picks: [string, unknown][] = [
        ...sample(withNul, size.perField, id, 'NUL', field.join('.')).map((v): [string, unknown] => ['NUL', v]),
        ...sample(withLoneSurrogate, size.perField, id, 'surrogate', field.join('.')).map((v): [string, unknown] => [
          'lone surrogate',
          v,
        ]),
        ...sample(otherKinds, 2 * size.perField, id, 'other', field.join('.')),
      ];
      for (const [category, value] of picks)
        push({
          category,
          label: `body.${field.join('.')} = ${show(value)}`,
          url: url(),
          headers: json,
          body: encodeBody(withValue(body, field, value)),
        });
    }
    const dateFields = base.dateFields.length ? base.dateFields : base.fields.slice(0, 1);
    for (const field of dateFields)
      // The basic-format date that once passed validation, then sampled others.
      for (const value of ['20300101T000000Z', ...sample(badDate, 2 * size.perField, id, 'bad date', field.join('.'))])
        push({
          category: 'bad date',
          label: `body.${field.join('.')} = ${show(value)}`,
          url: url(),
          headers: json,
          body: encodeBody(withValue(body, field, value)),
        });
    for (const [name, value] of sample(fc.tuple(unknownFieldName, wrongType), size.perCategory, id, 'unknown field'))
      push({
        category: 'unknown field',
        label: `body.${show(name)} = ${show(value)}`,
        url: url(),
        headers: json,
        body: encodeBody(withValue(body, [name], value)),
      });
    for (const value of sample(deepNesting, 1, id, 'deep body'))
      push({
        category: 'deep nesting',
        label: `whole body = ${show(value)}`,
        url: url(),
        headers: json,
        body: value.text,
      });
    for (const type of sample(wrongContentType, size.perCategory, id, 'content type'))
      push({
        category: 'wrong content type',
        label: `content-type: ${type}`,
        url: url(),
        headers: { 'content-type': type },
        body: encodeBody(body),
      });
    push({
      category: 'wrong content type',
      label: 'JSON body without a content type',
      url: url(),
      headers: {},
      body: encodeBody(body),
    });
    for (const text of sample(badJsonText, size.perCategory, id, 'bad json'))
      push({ category: 'not the JSON object', label: `body ${show(text)}`, url: url(), headers: json, body: text });
    const sizes = route.path === '/api/v1/chat/completions' ? [2.5, 11] : [1.1, 2.5];
    for (const bytes of sample(fc.constantFrom(...sizes), 1, id, 'large body')) {
      const filler = 'x'.repeat(Math.ceil(bytes * 1024 * 1024));
      const field = base.fields[0] ?? ['filler'];
      push({
        category: 'large body',
        label: `body.${field.join('.')} of ${bytes} MiB`,
        url: url(),
        headers: json,
        body: encodeBody(withValue(body, field, filler)),
      });
    }
    const stringField = base.fields.find((f) => typeof dig(body, f) === 'string');
    if (stringField)
      push({
        category: 'secret canary',
        label: `body.${stringField.join('.')} = a secret-shaped canary`,
        url: url(),
        headers: json,
        body: encodeBody(withValue(body, stringField, CANARY)),
      });
  } else if (route.method !== 'GET' && route.method !== 'DELETE') {
    push({
      category: 'not the JSON object',
      label: 'body {} with no body expected',
      url: url(),
      headers: json,
      body: '{}',
    });
  }

  for (const name of route.pathParams)
    for (const value of sample(hostileParam, 3 * size.perField, id, 'path', name))
      push({
        category: 'bad path param',
        label: `{${name}} = ${show(value)}`,
        url: url({ ...base.pathValues, [name]: value }),
        headers: base.body ? json : {},
        body: base.body && encodeBody(base.body),
      });

  for (const param of route.query) {
    const values = sample(
      fc.oneof(hostileParam, badDate.map(encodeURIComponent)),
      2 * size.perField,
      id,
      'query',
      param.name,
    );
    for (const value of values)
      push({
        category: 'bad query param',
        label: `?${param.name}=${show(value)}`,
        url: url(base.pathValues, { ...base.query, [param.name]: value }),
        headers: {},
      });
    push({
      category: 'bad query param',
      label: `?${param.name} repeated`,
      url: url(base.pathValues, `${param.name}=1&${param.name}=2`),
      headers: {},
    });
  }

  for (const [header, value] of sample(
    fc.tuple(fc.constantFrom('x-tenant-id', 'x-request-id', 'accept'), hostileHeaderValue),
    1,
    id,
    'header',
  ))
    push({
      category: 'hostile header',
      label: `${header}: ${show(value)}`,
      url: url(),
      headers: { ...(base.body ? json : {}), [header]: value },
      body: base.body && encodeBody(base.body),
    });

  if (route.auth === 'clerk')
    for (const claims of sample(hostileClaims, size.perCategory, id, 'claims'))
      push({
        category: 'hostile token claims',
        label: `token ${show(claims)}`,
        url: url(),
        headers: base.body ? json : {},
        body: base.body && encodeBody(base.body),
        claims,
      });

  // The same requests without credentials: the valid one and a sample of the hostile ones.
  const hostile = out.filter((v) => v.category !== 'valid' && !v.claims);
  const picked = sample(
    fc.nat({ max: Math.max(0, hostile.length - 1) }),
    size.withoutCredentials - 1,
    id,
    'without credentials',
  );
  const anonymous = [out[0], ...new Set(picked.map((i) => hostile[i]).filter(Boolean))];
  for (const v of anonymous) out.push({ ...v, credentials: 'none' });
  return out;
}

/**
 * A secret-shaped value (a well-formed, unissued API key) written into a body: it may be stored and shown
 * back on success, but an error must never quote it.
 */
export const CANARY = `umk_${'Battery0Canary1Secret2Value3'.repeat(2).slice(0, 49)}`;

function dig(body: Record<string, unknown>, path: string[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    body,
  );
}

/** Clerk claims a validly signed token may carry that the service must refuse or store safely. */
const hostileClaims: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.constantFrom(
      'sub',
      'email',
      'first_name',
      'last_name',
      'image_url',
      'sid',
      'o.id',
      'o.slg',
      'o.rol',
      'org_id',
      'org_slug',
    ),
    fc.oneof(withNul, withLoneSurrogate, wrongType, fc.constantFrom('', 'a'.repeat(3_000))),
  )
  .map(([claim, value]) => {
    if (claim.startsWith('o.'))
      return { o: { id: 'org_battery', rol: 'admin', slg: 'battery', [claim.slice(2)]: value } };
    return { [claim]: value };
  });

/** Leaf paths of a body, then the schema's properties it leaves out (these are mutated too). */
export function fieldsOf(body: Record<string, unknown>, schema: JsonSchema | null): string[][] {
  const leaves: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (path.length < 4 && typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? k : k]);
    } else if (path.length) leaves.push(path);
  };
  walk(body, []);
  for (const name of Object.keys(schema?.properties ?? {})) if (!(name in body)) leaves.push([name]);
  return leaves;
}
