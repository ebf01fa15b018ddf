// @ts-check
import eslint from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The libs in layers, lowest first. A file may import libs of lower layers only: nothing imports upwards or
 * sideways, so the graph has no cycles. Apps sit above every lib. A new lib, or a new import between libs, takes
 * its place here (and in docs/architecture.md, section 0).
 */
const LAYERS = [
  ['common'],
  ['config'],
  ['database', 'redis', 'metrics', 'http-edge', 'clerk', 'journal'],
  ['installation', 'audit', 'quota'],
  ['rate-limit', 'health', 'tenants', 'openrouter', 'usage'],
  ['api-keys', 'users', 'audit-read', 'reconciliation'],
  ['gateway', 'tenant-integration', 'admin', 'auth', 'webhooks'],
];
const layerType = (i) => `layer-${i}`;

/** Paths that reach into a lib or an app instead of through a lib's index. */
const DEEP_IMPORTS = [
  {
    regex: '^(\\.\\./)+(libs/)?[a-z-]+/src(/|$)',
    message: "Import another lib through its alias ('#libs/<name>').",
  },
  { regex: '^#libs/[^/]+/', message: "Import a lib through its index ('#libs/<name>'), not a file inside it." },
  { regex: '^(\\.\\./)+apps(/|$)', message: 'Nothing imports from apps/: move what both need into a lib.' },
];

/**
 * Where SQL may live: repositories (`*.repository.ts`, extending TableRepository) and libs/database. Services hold
 * a UnitOfWork, never a connection: they may not name DataSource, EntityManager or QueryRunner, inject one, or run
 * a statement.
 */
const DATA_ACCESS_MESSAGE = 'belongs in a *.repository.ts (or libs/database): services call repositories.';
const DATA_ACCESS_PATHS = [
  {
    name: 'typeorm',
    importNames: ['DataSource', 'EntityManager', 'QueryRunner', 'Repository', 'SelectQueryBuilder'],
    message: `A connection ${DATA_ACCESS_MESSAGE}`,
  },
  {
    name: '@nestjs/typeorm',
    importNames: ['InjectDataSource', 'InjectEntityManager', 'InjectRepository'],
    message: `A connection ${DATA_ACCESS_MESSAGE}`,
  },
];
const DATA_ACCESS = {
  files: ['apps/**/*.ts', 'libs/**/*.ts'],
  ignores: ['**/*.repository.ts', 'libs/database/**', '**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: DEEP_IMPORTS,
        paths: DATA_ACCESS_PATHS,
      },
    ],
    'no-restricted-syntax': [
      'error',
      ...['query', 'createQueryBuilder', 'getRepository', 'transaction'].map((name) => ({
        selector: `CallExpression[callee.property.name='${name}']`,
        message: `.${name}() ${DATA_ACCESS_MESSAGE}`,
      })),
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promises left floating lose their errors: every one is awaited, returned or marked `void`.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      // A lib is used through its public index.ts only.
      'no-restricted-imports': ['error', { patterns: DEEP_IMPORTS }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The layers as a rule (eslint-plugin-boundaries): each lib is an element of its layer's type, each app an
    // element of type `app`; imports inside one element are not checked, npm packages are not elements.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'boundaries/elements': [
        ...LAYERS.map((libs, i) => ({
          type: layerType(i),
          pattern: `libs/@(${libs.join('|')})`,
          capture: ['name'],
        })),
        { type: 'app', pattern: 'apps/*', capture: ['name'] },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message:
            '{{from.element.captured.name}} ({{from.element.type}}) may not import {{to.element.captured.name}} ' +
            '({{to.element.type}}): a lib imports only libs of lower layers (LAYERS in eslint.config.mjs)',
          policies: [
            ...LAYERS.map((_, i) => ({
              from: { element: { type: layerType(i) } },
              allow: { to: { element: { types: { anyOf: LAYERS.slice(0, i).map((__, j) => layerType(j)) } } } },
            })),
            {
              from: { element: { type: 'app' } },
              allow: { to: { element: { types: { anyOf: LAYERS.map((__, j) => layerType(j)) } } } },
            },
          ],
        },
      ],
      // A file of a lib or app that belongs to no layer is a lib nobody placed yet.
      'boundaries/no-unknown-files': 'error',
    },
  },
  DATA_ACCESS,
  {
    // The bottom layer, said plainly: libs/common imports no other lib.
    files: ['libs/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...DEEP_IMPORTS, { regex: '^#libs/', message: 'libs/common imports no other lib.' }],
          paths: DATA_ACCESS_PATHS,
        },
      ],
    },
  },
  {
    // Integration tests and benchmarks may reach into a lib's internals to test them.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
