/**
 * `.env.example` as Docker reads it (`docker run --env-file`, compose's env_file): every line `KEY=VALUE` taken
 * literally, `#` lines comments, no quote or inline-comment processing. Over the image's own ENV, the
 * configuration it yields must pass the app's validation and listen on all interfaces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { getMetadataStorage } from 'class-validator';
import { AppConfig, Environment, validateEnvironment } from '#libs/config';
import { REPO_ROOT } from './support/app';

/** Docker's env-file rules: no quotes, no inline comments, no escapes; a bare `KEY` copies the host's value. */
function parseDockerEnvFile(text: string): { vars: Record<string, string>; bare: string[] } {
  const vars: Record<string, string> = {};
  const bare: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq === -1) bare.push(line);
    else vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { vars, bare };
}

/** The ENV of the Dockerfile's last stage (the image that runs). */
function imageEnv(dockerfile: string): Record<string, string> {
  const lastStage = dockerfile.split(/^FROM\s/m).pop()!;
  const env: Record<string, string> = {};
  for (const m of lastStage.matchAll(/^ENV\s+((?:.*\\\r?\n)*.*)$/gm)) {
    for (const pair of m[1]
      .replace(/\\\r?\n/g, ' ')
      .trim()
      .split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
const { vars, bare } = parseDockerEnvFile(example);
const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const image = imageEnv(dockerfile);

describe('.env.example under Docker env-file rules', () => {
  it('has only KEY=VALUE lines: no bare names, quotes or inline comments', () => {
    assert.deepEqual(bare, []);
    for (const [key, value] of Object.entries(vars)) {
      assert.match(key, /^[A-Z][A-Z0-9_]*$/, `${key} is a plain variable name`);
      assert.ok(!/\s#/.test(value) && !value.startsWith('#'), `${key}: no inline comment in ${JSON.stringify(value)}`);
      assert.ok(!/^["']/.test(value), `${key}: Docker keeps quotes as part of the value`);
      assert.equal(value, value.trim(), `${key}: no surrounding spaces`);
    }
  });

  it('lists every variable the configuration reads (set, or commented out as # KEY=)', () => {
    const known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(Environment, '', true, false)
        .map((m) => m.propertyName),
    );
    assert.ok(known.has('DATABASE_URL') && known.has('PORT'), 'read the validation metadata');
    const listed = new Set([...example.matchAll(/^(?:#\s*)?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = [...known].filter((name) => !listed.has(name));
    assert.deepEqual(missing, [], 'variables missing from .env.example');
    const unknown = Object.keys(vars).filter((name) => !known.has(name));
    assert.deepEqual(unknown, [], 'variables in .env.example the app does not read');
  });

  it("validates with the app's own configuration over the image's ENV", () => {
    const merged = { ...image, ...vars };
    assert.doesNotThrow(() => validateEnvironment(merged));
    const config = new AppConfig(merged);
    assert.equal(config.host, '0.0.0.0', "the image's LISTEN_HOST wins over .env's HOST");
    assert.equal(config.port, 8000);
    const workdir = /^WORKDIR\s+(\S+)/m.exec(dockerfile.split(/^FROM\s/m).pop()!)?.[1] ?? '/';
    assert.equal(path.posix.resolve(workdir, merged.DATA_DIR), '/app/data', 'DATA_DIR is the volume');
    assert.match(dockerfile, /^VOLUME \["\/app\/data"\]$/m);
    assert.equal(config.databaseUrl, undefined, 'an empty value is unset');
  });

  it('keeps HOST=127.0.0.1 outside Docker, and lets the image be told to listen elsewhere', () => {
    assert.equal(new AppConfig(vars).host, '127.0.0.1');
    assert.equal(new AppConfig({ ...image, ...vars, LISTEN_HOST: '127.0.0.1' }).host, '127.0.0.1');
  });

  it('passes deploy/check-compose.js (compose file, nginx upstreams, Dockerfile)', () => {
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'deploy', 'check-compose.js')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr + run.stdout);
  });
});
