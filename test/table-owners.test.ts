/**
 * One owner per table, and tenant scope as a wall, checked over the source (no server, no database):
 *
 * - every SQL write (`INSERT INTO`, `UPDATE`, `DELETE FROM`) and every TypeORM write or repository of an
 *   entity is in the lib that owns the table;
 * - every statement touching a tenant-owned table (memberships, api_keys, usage_records, audit_events)
 *   either names its tenant (`tenant_id = $n`, or inserts a `tenant_id`) or sits in one of the named
 *   cross-tenant readers below, each with its reason.
 *
 * A new query that skips the scope, or a write from a lib that does not own the table, fails here with the
 * file and the statement; a new table fails until it is given an owner.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');

/** Table → the lib folder(s) that own it (read and write it; everyone else calls their services). */
export const OWNERS: Record<string, string[]> = {
  users: ['libs/users/'],
  user_sessions: ['libs/users/'],
  user_provider_keys: ['libs/users/'],
  tenants: ['libs/tenants/'],
  memberships: ['libs/tenants/'],
  api_keys: ['libs/api-keys/'],
  openrouter_keys: ['libs/openrouter/'],
  openrouter_key_deletions: ['libs/openrouter/'],
  audit_events: ['libs/audit/', 'libs/audit-read/'],
  usage_records: ['libs/gateway/'],
  usage_rollups: ['libs/usage/'],
  usage_ledger_state: ['libs/usage/'],
  quota_counters: ['libs/quota/'],
  tenant_spend_counters: ['libs/quota/'],
  journal_marks: ['libs/quota/'],
  clerk_webhook_deliveries: ['libs/webhooks/'],
  job_leases: ['libs/reconciliation/'],
  installation: ['libs/installation/'],
};

/** Writes outside the owner still to be moved, each with why it is not moved yet. */
const WRITE_EXCEPTIONS: { table: string; file: string; why: string }[] = [];

const TENANT_OWNED = ['memberships', 'api_keys', 'usage_records', 'usage_rollups', 'audit_events'];

/** The named cross-tenant readers: statements on tenant-owned tables without a tenant predicate. */
const CROSS_TENANT: Record<string, string> = {
  'libs/admin/src/read-model/platform-directory.repository.ts':
    'platform administration: users and tenants across tenants',
  'libs/admin/src/read-model/platform-stats.repository.ts': 'platform statistics: counts over every tenant',
  'libs/audit-read/src/audit-event-read.repository.ts':
    'the platform audit trail, pageAcrossTenants (the forTenant view names its tenant)',
  'libs/api-keys/src/api-key.repository.ts':
    "byHash (the key is what tells the request's tenant), recordUses (last_used_at of keys already verified, " +
    'by id) and revokeAllOfUser (a user deleted in Clerk, in every tenant); the tenant view names its tenant',
  'libs/gateway/src/usage/usage-record.repository.ts':
    "pruneBatch: retention removes every tenant's records past the cutoff (insertBatch names each row's tenant)",
  'libs/usage/src/usage-rollup.repository.ts':
    "usage:rebuild rebuilds a window of every tenant; admin stats' platform spend; the ledger's first record",
  'libs/usage/src/usage-rollup.sql.ts':
    'the rollups of the rows a batch (or a rebuilt window) holds, whatever their tenants',
  'libs/usage/src/usage-window.sql.ts':
    "a window's pieces take their predicate from the caller: tenant_id = $1 for reports, none for admin stats",
  'libs/tenants/src/members/membership.repository.ts':
    "tenantsOf/tenantOf read a signed-in user's own tenants (scoped by the user); the tenant view's statements all name the tenant (asserted below)",
};

interface Source {
  file: string;
  text: string;
}

/** Every production .ts file under libs/ and apps/ (a walk, so that files not yet committed count too). */
function productionSources(): Source[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.test.ts') && !rel.endsWith('.spec.ts') && !rel.endsWith('.d.ts'))
        files.push(rel);
    }
  };
  walk('libs');
  walk('apps');
  return files.map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
}

/** Template literals and quoted strings that look like SQL. */
function statements(text: string): string[] {
  const found = text.match(/`[^`]*`|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g) ?? [];
  return found.filter((s) => /\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b/.test(s));
}

const WRITE = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)/gi;
const TOUCH = (table: string) => new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE)\\s+${table}\\b`, 'i');
const SCOPED = /\btenant_id\s*=\s*(?:\$\d|ANY\b|\$\$\{)/i;

function ownsFile(table: string, file: string): boolean {
  return (OWNERS[table] ?? []).some((prefix) => file.startsWith(prefix));
}

/** Entity class → table, from the entities' @Entity({ name }) declarations. */
function entityTables(sources: Source[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const { text } of sources) {
    for (const m of text.matchAll(/@Entity\(\{\s*name:\s*'([a-z_]+)'\s*\}\)\s*export class (\w+)/g))
      map.set(m[2], m[1]);
  }
  return map;
}

describe('table owners and tenant scope (source scan)', () => {
  const sources = productionSources();

  it('finds the source and the entities it checks', () => {
    assert.ok(sources.length > 50, `${sources.length} files`);
    assert.ok(entityTables(sources).size >= 6);
  });

  it('writes each table only from its owner lib', () => {
    const problems: string[] = [];
    const entities = entityTables(sources);
    for (const { file, text } of sources) {
      for (const sql of statements(text)) {
        for (const m of sql.matchAll(WRITE)) {
          const table = m[1].toLowerCase();
          if (['set', 'of', 'on', 'the'].includes(table)) continue;
          if (!(table in OWNERS)) problems.push(`${file}: table ${table} has no owner in OWNERS`);
          else if (!ownsFile(table, file) && !WRITE_EXCEPTIONS.some((e) => e.table === table && e.file === file))
            problems.push(`${file}: writes ${table}, owned by ${OWNERS[table].join(', ')}`);
        }
      }
      for (const [entity, table] of entities) {
        const access = new RegExp(
          `\\.(?:insert|update|save|delete|upsert|increment|decrement)\\(\\s*${entity}\\b|getRepository\\(\\s*${entity}\\s*\\)|InjectRepository\\(\\s*${entity}\\s*\\)`,
        );
        if (access.test(text) && !ownsFile(table, file))
          problems.push(`${file}: uses the ${entity} entity (${table}), owned by ${OWNERS[table]?.join(', ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('scopes every statement on a tenant-owned table by tenant, outside the named cross-tenant readers', () => {
    const problems: string[] = [];
    for (const { file, text } of sources) {
      if (file in CROSS_TENANT) continue;
      for (const sql of statements(text)) {
        for (const table of TENANT_OWNED) {
          if (!TOUCH(table).test(sql)) continue;
          const isInsert = new RegExp(`INSERT\\s+INTO\\s+${table}\\b[^(]*\\([^)]*\\btenant_id\\b`, 'i').test(sql);
          if (!isInsert && !SCOPED.test(sql))
            problems.push(`${file}: ${table} without tenant_id: ${sql.replace(/\s+/g, ' ').slice(0, 120)}`);
        }
      }
      if (/getRepository\(\s*(ApiKey|Membership|AuditEvent)\s*\)/.test(text) && !/requireTenantId\(/.test(text))
        problems.push(`${file}: a repository of a tenant-owned entity without requireTenantId`);
    }
    assert.deepEqual(problems, []);
  });

  it("keeps the membership repository's tenant view behind a tenant predicate, and its user reads by user", () => {
    const repo = sources.find((s) => s.file === 'libs/tenants/src/members/membership.repository.ts');
    assert.ok(repo);
    const uses = [...repo.text.matchAll(/\$\{SELECT_MEMBER\}([^`]*)`/g)].map((m) => m[1]);
    assert.ok(uses.length >= 3);
    for (const rest of uses) assert.match(rest, /^\s*WHERE m\.tenant_id = \$1\b/, rest);
    const byUser = [...repo.text.matchAll(/\$\{SELECT_TENANT_WITH_ROLE\}([^`]*)`/g)].map((m) => m[1]);
    assert.equal(byUser.length, 2);
    for (const rest of byUser) assert.match(rest, /^\s*WHERE m\.user_id = \$1\b/, rest);
    const view = repo.text.slice(repo.text.indexOf('export class TenantMemberships'));
    const viewStatements = (view.match(/`[^`]*`/g) ?? []).filter(
      (sql) => TOUCH('memberships').test(sql) || /SELECT_MEMBER/.test(sql),
    );
    assert.ok(viewStatements.length >= 12, `${viewStatements.length} statements in the view`);
    for (const sql of viewStatements)
      assert.match(sql, /\btenant_id\s*=\s*\$1\b|\(tenant_id, user_id, role\) VALUES \(\$1/, sql);
  });

  it('names only cross-tenant readers and exceptions that exist', () => {
    const files = new Set(sources.map((s) => s.file));
    for (const file of Object.keys(CROSS_TENANT)) {
      if (!files.has(file)) continue; // moved or removed meanwhile: nothing to allow any more
      assert.ok(CROSS_TENANT[file].length > 10, `${file} has a reason`);
    }
    for (const e of WRITE_EXCEPTIONS) assert.ok(e.why.length > 10);
  });

  it('would catch an unscoped query (the check itself)', () => {
    const unscoped = '`SELECT id FROM api_keys WHERE user_id = $1`';
    const scoped = '`SELECT id FROM api_keys WHERE tenant_id = $1 AND user_id = $2`';
    assert.equal(SCOPED.test(statements(unscoped)[0]), false);
    assert.equal(SCOPED.test(statements(scoped)[0]), true);
    assert.ok(TOUCH('api_keys').test(unscoped));
  });
});
