/**
 * The layering rules of eslint.config.mjs catch what they promise: violations planted through ESLint's Node API
 * (`lintText` with a path inside a lib or an app; the file need not exist) fail with the rule that names them, and
 * clean files pass. Type-aware rules are switched off here: they need files on disk, and these rules do not.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = path.resolve(__dirname, '..', '..');

const withoutTypes: Linter.Config[] = [
  {
    files: ['**/*.ts'],
    ...(tseslint.configs.disableTypeChecked as Linter.Config),
    languageOptions: { parserOptions: { projectService: false } },
  },
];

const eslint = new ESLint({ cwd: ROOT, overrideConfig: withoutTypes });

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
  return result.messages;
}

function rulesOf(messages: Linter.LintMessage[]): string[] {
  return [...new Set(messages.map((m) => m.ruleId ?? `fatal: ${m.message}`))].sort();
}

describe('layering rules', () => {
  const violations: { what: string; file: string; code: string; rules: string[] }[] = [
    {
      what: 'libs/common re-exporting another lib',
      file: 'libs/common/src/planted.ts',
      code: "export * from '#libs/gateway';\n",
      rules: ['boundaries/dependencies', 'no-restricted-imports'],
    },
    {
      what: 'libs/common importing the lib just above it',
      file: 'libs/common/src/planted.ts',
      code: "import { AppConfig } from '#libs/config';\nexport const c = AppConfig;\n",
      rules: ['boundaries/dependencies', 'no-restricted-imports'],
    },
    {
      what: 'an app reaching into a lib by a relative path (../../libs/x/src/y)',
      file: 'apps/api/planted.ts',
      code: "export { MeService } from '../../libs/users/src/me/me.service';\n",
      rules: ['no-restricted-imports'],
    },
    {
      what: 'an app reaching into a lib from its src folder',
      file: 'apps/api/src/planted.ts',
      code: "import { MeService } from '../../../libs/users/src/me/me.service';\nexport const m = MeService;\n",
      rules: ['no-restricted-imports'],
    },
    {
      what: 'an app importing a file inside a lib through the alias',
      file: 'apps/cli/src/planted.ts',
      code: "import { Errors } from '#libs/common/src/errors';\nexport const e = Errors;\n",
      rules: ['no-restricted-imports'],
    },
    {
      what: 'a lib importing upwards (audit → tenants)',
      file: 'libs/audit/src/planted.ts',
      code: "import { TenantCommands } from '#libs/tenants';\nexport const t = TenantCommands;\n",
      rules: ['boundaries/dependencies'],
    },
    {
      what: 'a lib importing sideways, within its layer (tenants → openrouter)',
      file: 'libs/tenants/src/planted.ts',
      code: "export { OpenRouterClient } from '#libs/openrouter';\n",
      rules: ['boundaries/dependencies'],
    },
    {
      what: 'a lib importing upwards by a dynamic import (users → gateway)',
      file: 'libs/users/src/planted.ts',
      code: "export const load = () => import('#libs/gateway');\n",
      rules: ['boundaries/dependencies'],
    },
    {
      what: 'a lib importing from apps/',
      file: 'libs/users/src/planted.ts',
      code: "import { createApp } from '../../../apps/api/src/bootstrap/create-app';\nexport const c = createApp;\n",
      rules: ['boundaries/dependencies', 'no-restricted-imports'],
    },
    {
      what: 'a service running SQL (DELETE FROM users)',
      file: 'libs/users/src/planted.service.ts',
      code: "export async function purge(db: { query(sql: string): Promise<unknown> }) {\n  await db.query('DELETE FROM users');\n}\n",
      rules: ['no-restricted-syntax'],
    },
    {
      what: 'a service naming DataSource',
      file: 'libs/tenants/src/planted.service.ts',
      code: "import { DataSource } from 'typeorm';\nexport const d = DataSource;\n",
      rules: ['no-restricted-imports'],
    },
    {
      what: 'a service holding a connection (EntityManager) as a type',
      file: 'libs/api-keys/src/planted.service.ts',
      code: "import type { EntityManager } from 'typeorm';\nexport type M = EntityManager;\n",
      rules: ['no-restricted-imports'],
    },
    {
      what: 'a service opening a transaction itself',
      file: 'libs/gateway/src/planted.service.ts',
      code: 'export const run = (ds: { transaction(f: () => void): void }) => ds.transaction(() => undefined);\n',
      rules: ['no-restricted-syntax'],
    },
    {
      what: 'an app running SQL',
      file: 'apps/cli/src/planted.ts',
      code: "export const q = (db: { query(sql: string): void }) => db.query('SELECT 1');\n",
      rules: ['no-restricted-syntax'],
    },
    {
      what: 'a lib that has no layer yet',
      file: 'libs/not-placed/src/index.ts',
      code: "import { Errors } from '#libs/common';\nexport const e = Errors;\n",
      rules: ['boundaries/no-unknown-files'],
    },
  ];

  for (const v of violations) {
    it(`refuses ${v.what}`, async () => {
      const messages = await lint(v.file, v.code);
      assert.deepEqual(rulesOf(messages), v.rules, JSON.stringify(messages, null, 2));
      assert.ok(messages.every((m) => m.severity === 2));
    });
  }

  it('names both libs and their layers when a lib imports upwards', async () => {
    const [message] = await lint('libs/audit/src/planted.ts', "export * from '#libs/tenants';\n");
    assert.match(message.message, /audit \(layer-3\) may not import tenants \(layer-4\)/);
  });

  it('passes clean files: a lib importing lower layers and npm packages, an app importing libs by their index', async () => {
    const clean: [string, string][] = [
      [
        'libs/gateway/src/planted.ts',
        "import { join } from 'node:path';\nimport { Errors } from '#libs/common';\nimport { QuotaService } from '#libs/quota';\n" +
          'export const x = [join, Errors, QuotaService];\n',
      ],
      ['libs/gateway/src/proxy/planted.ts', "export { InferenceProxy } from './inference-proxy';\n"],
      ['libs/common/src/planted.ts', "import { Injectable } from '@nestjs/common';\nexport const i = Injectable;\n"],
      [
        'libs/users/src/planted.repository.ts',
        "import { DataSource } from 'typeorm';\nexport const purge = (db: DataSource) => db.query('DELETE FROM users');\n",
      ],
      [
        'apps/api/src/planted.ts',
        "import { GatewayModule } from '#libs/gateway';\nimport { AppConfig } from '#libs/config';\nexport const m = [GatewayModule, AppConfig];\n",
      ],
    ];
    for (const [file, code] of clean) assert.deepEqual(await lint(file, code), [], file);
  });

  it('gives every lib on disk a layer', async () => {
    const libs = fs.readdirSync(path.join(ROOT, 'libs'), { withFileTypes: true }).filter((d) => d.isDirectory());
    assert.ok(libs.length > 20);
    for (const lib of libs) {
      const messages = await lint(`libs/${lib.name}/src/planted.ts`, 'export const planted = 1;\n');
      assert.deepEqual(rulesOf(messages), [], lib.name);
    }
  });
});
