/** One valid request per route, from its schema and the ids of the battery's own tenant, members and keys. */
import { randomUUID } from 'node:crypto';
import type { JsonSchema, Route } from './openapi-routes';
import { Baseline, fieldsOf } from './variants';

export interface BatteryIds {
  ownerUserId: string;
  tenantId: string;
  /** A key the battery may rotate, disable or revoke (never the one it authenticates with). */
  targetKeyId: string;
  /** Members the battery may change or remove, on the Clerk routes and through the key. */
  memberUserId: string;
  v1MemberUserId: string;
  ownerClerkId: string;
}

const FUTURE = () => new Date(Date.now() + 30 * 86_400_000).toISOString();

function pathValue(route: Route, name: string, ids: BatteryIds): string {
  if (name === 'tenantId') return ids.tenantId;
  if (name === 'keyId') return ids.targetKeyId;
  if (name === 'userId') return route.path.startsWith('/api/v1/users') ? ids.v1MemberUserId : ids.memberUserId;
  return randomUUID();
}

/** Fields the document describes loosely (a nullable number shown as an object, say) get a known good value. */
function knownValue(name: string, ids: BatteryIds): unknown {
  switch (name) {
    case 'email':
      return `battery-${randomUUID().slice(0, 8)}@example.test`;
    case 'user_id':
      return ids.ownerUserId;
    case 'token_quota':
      return 100_000;
    case 'expires_at':
      return FUTURE();
    case 'model':
      return 'openai/gpt-4o-mini';
    case 'messages':
      return [{ role: 'user', content: 'Say hi' }];
    case 'dry_run':
      return true;
    case 'api_key':
      return 'glm-battery-key-0123456789';
    default:
      return undefined;
  }
}

function valueFor(name: string, schema: JsonSchema, ids: BatteryIds): unknown {
  const known = knownValue(name, ids);
  if (known !== undefined) return known;
  if (schema.enum?.length) return schema.enum.find((v) => v !== null);
  if (schema.format === 'uuid') return ids.ownerUserId;
  if (schema.format === 'date-time') return FUTURE();
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return schema.items?.enum?.length ? [schema.items.enum[0]] : [];
    case 'object':
      return objectFor(schema, ids);
    default: {
      const text = `battery ${randomUUID().slice(0, 8)}`;
      return text.slice(0, schema.maxLength ?? text.length).padEnd(schema.minLength ?? 0, 'x');
    }
  }
}

function objectFor(schema: JsonSchema, ids: BatteryIds): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of schema.required ?? []) out[name] = valueFor(name, schema.properties?.[name] ?? {}, ids);
  return out;
}

/** A Clerk event the webhook route stores (the document has no schema for it). */
export function clerkEvent(kind: number): Record<string, unknown> {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 16);
  switch (kind % 3) {
    case 0:
      return {
        type: 'user.updated',
        object: 'event',
        data: {
          id: `user_${suffix}`,
          object: 'user',
          email_addresses: [{ id: 'idn_primary', email_address: `wh-${suffix}@example.test` }],
          primary_email_address_id: 'idn_primary',
          first_name: 'Grace',
          last_name: 'Hopper',
          image_url: 'https://img.example/u.png',
        },
      };
    case 1:
      return {
        type: 'organization.created',
        object: 'event',
        data: { id: `org_${suffix}`, object: 'organization', name: 'Battery Org', slug: `battery-${suffix}` },
      };
    default:
      return {
        type: 'organizationMembership.created',
        object: 'event',
        data: {
          id: `orgmem_${suffix}`,
          object: 'organization_membership',
          role: 'org:member',
          organization: { id: `org_${suffix}`, name: 'Battery Org', slug: null },
          public_user_data: { user_id: `user_${suffix}`, identifier: `m-${suffix}@example.test`, first_name: 'Mem' },
        },
      };
  }
}

export function baselineFor(route: Route, ids: BatteryIds, index: number): Baseline {
  const pathValues = Object.fromEntries(route.pathParams.map((n) => [n, pathValue(route, n, ids)]));
  let body: Record<string, unknown> | undefined;
  if (route.auth === 'webhook') body = clerkEvent(index);
  else if (route.body) {
    body = objectFor(route.body, ids);
    // Routes whose schema requires nothing still get their main field.
    if (Object.keys(body).length === 0 && route.body.properties?.email) body.email = knownValue('email', ids);
  }
  const fields = body ? fieldsOf(body, route.auth === 'webhook' ? null : route.body) : [];
  const dateFields = fields.filter((f) => /(_at|^from|^to)$/.test(f[f.length - 1]));
  return { pathValues, query: {}, body, fields, dateFields };
}
