/**
 * The layering rules of eslint.config.mjs catch what they promise: violations planted through ESLint's Node API
 * (`lintText` with a path inside a lib or an app; the file need not exist) fail with the rule that names them, and
 * clean files pass. Type-aware rules are switched off here: they need files on disk, and these rules do not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
    assert.match(message.message, /audit \(layer-2\) may not import tenants \(layer-4\)/);
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

describe('SQL outside repositories (listed, not enforced yet)', () => {
  const service = "import { DataSource } from 'typeorm';\nexport const f = (ds: DataSource) => ds.query('SELECT 1');\n";

  it('says nothing by default', async () => {
    assert.deepEqual(await lint('libs/tenants/src/planted.service.ts', service), []);
  });

  it('names the DataSource import and the query with LINT_DATA_ACCESS=1, but not in a repository', () => {
    // The switch is read when the config loads, so this runs in a process of its own.
    const script = `
      const { ESLint } = require('eslint');
      const tseslint = require('typescript-eslint');
      const eslint = new ESLint({ cwd: ${JSON.stringify(ROOT)}, overrideConfig: [{ files: ['**/*.ts'],
        ...tseslint.configs.disableTypeChecked, languageOptions: { parserOptions: { projectService: false } } }] });
      (async () => {
        const out = {};
        for (const file of ['libs/tenants/src/planted.service.ts', 'libs/tenants/src/planted.repository.ts']) {
          const [r] = await eslint.lintText(${JSON.stringify(service)}, { filePath: ${JSON.stringify(ROOT)} + '/' + file });
          out[file] = r.messages.map((m) => m.ruleId + ': ' + m.message);
        }
        process.stdout.write(JSON.stringify(out));
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, LINT_DATA_ACCESS: '1' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, string[]>;
    assert.deepEqual(out['libs/tenants/src/planted.service.ts'], [
      'no-restricted-syntax: DataSource belongs in a *.repository.ts (or libs/database).',
      'no-restricted-syntax: SQL belongs in a *.repository.ts (or libs/database).',
    ]);
    assert.deepEqual(out['libs/tenants/src/planted.repository.ts'], []);
  });
});
