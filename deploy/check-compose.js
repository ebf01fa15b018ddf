#!/usr/bin/env node
'use strict';
/**
 * Checks docker-compose.yml, deploy/nginx.conf and the Dockerfile where no Docker engine (nor `docker compose`)
 * runs: parses the YAML (anchors and `<<` merges resolved), interpolates ${VAR}, ${VAR:-default} and
 * ${VAR:?message} as compose does, and verifies what compose would refuse or what would break at run time:
 * unknown keys, dependencies on missing services or on services without a health check, undeclared volumes,
 * missing bind-mounted files, the proxy's upstreams against the API services, the Dockerfile's stages and user.
 *
 *   node deploy/check-compose.js            exits 1 and lists the problems, or prints "ok"
 *   node deploy/check-compose.js --print    also prints the resolved configuration as JSON
 */
const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');

const ROOT = path.resolve(__dirname, '..');
const problems = [];
const fail = (msg) => problems.push(msg);

const TOP_LEVEL = new Set(['name', 'services', 'volumes', 'networks', 'configs', 'secrets', 'include', 'version']);
const SERVICE_KEYS = new Set([
  'build',
  'image',
  'restart',
  'env_file',
  'environment',
  'expose',
  'ports',
  'depends_on',
  'healthcheck',
  'command',
  'entrypoint',
  'volumes',
  'stop_grace_period',
  'stop_signal',
  'deploy',
  'networks',
  'labels',
  'user',
  'working_dir',
  'container_name',
  'init',
  'read_only',
  'tmpfs',
  'ulimits',
  'logging',
  'profiles',
  'extra_hosts',
  'cap_drop',
  'security_opt',
]);
const HEALTHCHECK_KEYS = new Set([
  'test',
  'interval',
  'timeout',
  'retries',
  'start_period',
  'start_interval',
  'disable',
]);
const RESTART = new Set(['no', 'always', 'on-failure', 'unless-stopped']);
const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

/** Compose's interpolation: $$ escapes, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}. */
function interpolate(value, env, where) {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m, name, colon, op, arg, bare) => {
        if (m === '$$') return '$';
        if (bare) return env[bare] ?? '';
        const set = colon ? Boolean(env[name]) : env[name] !== undefined;
        if (op === '-') return set ? env[name] : arg;
        if (op === '?') {
          if (!set) fail(`${where}: required variable ${name} is not set (${arg})`);
          return env[name] ?? '';
        }
        return env[name] ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, `${where}.${k}`)]));
  }
  return value;
}

/** YAML merge keys (`<<: *anchor`), which compose honours; the mapping's own keys win over merged ones. */
function resolveMerges(node) {
  if (Array.isArray(node)) return node.map(resolveMerges);
  if (!node || typeof node !== 'object') return node;
  const own = Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== '<<')
      .map(([k, v]) => [k, resolveMerges(v)]),
  );
  if (!('<<' in node)) return own;
  const merged = {};
  for (const source of [].concat(node['<<']).reverse()) Object.assign(merged, resolveMerges(source));
  return { ...merged, ...own };
}

function checkCompose(env) {
  const file = path.join(ROOT, 'docker-compose.yml');
  const raw = resolveMerges(yaml.load(fs.readFileSync(file, 'utf8')));
  const doc = interpolate(raw, env, 'docker-compose.yml');
  for (const key of Object.keys(doc))
    if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) fail(`unknown top-level key ${key}`);
  if (doc.name !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(doc.name))
    fail(`project name ${doc.name} must be lower-case letters, digits, - and _`);
  const services = doc.services ?? {};
  const volumes = doc.volumes ?? {};
  if (!Object.keys(services).length) fail('no services');
  for (const [name, svc] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) fail(`${at}: invalid service name`);
    for (const key of Object.keys(svc))
      if (!SERVICE_KEYS.has(key) && !key.startsWith('x-')) fail(`${at}: unknown key ${key}`);
    if (!svc.image && !svc.build) fail(`${at}: needs image or build`);
    if (svc.build) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      const dockerfile = path.join(ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      if (!fs.existsSync(dockerfile)) fail(`${at}: ${path.relative(ROOT, dockerfile)} does not exist`);
    }
    if (svc.restart !== undefined && !RESTART.has(svc.restart) && !/^on-failure:\d+$/.test(svc.restart))
      fail(`${at}: restart ${svc.restart}`);
    for (const entry of [].concat(svc.env_file ?? [])) {
      const p = typeof entry === 'string' ? entry : entry.path;
      const required = typeof entry === 'string' ? true : entry.required !== false;
      if (typeof p !== 'string') fail(`${at}.env_file: entry without a path`);
      else if (required && !fs.existsSync(path.join(ROOT, p))) fail(`${at}.env_file: ${p} is required but missing`);
    }
    if (svc.environment && typeof svc.environment === 'object' && !Array.isArray(svc.environment)) {
      for (const [k, v] of Object.entries(svc.environment)) {
        if (v !== null && !['string', 'number', 'boolean'].includes(typeof v))
          fail(`${at}.environment.${k}: must be a scalar`);
      }
    }
    for (const port of svc.ports ?? []) {
      if (typeof port === 'string' && !/^(\d+(\.\d+){3}:)?\d+(-\d+)?:\d+(-\d+)?(\/(tcp|udp))?$/.test(port))
        fail(`${at}.ports: ${port}`);
    }
    for (const port of svc.expose ?? []) if (!/^\d+(\/(tcp|udp))?$/.test(String(port))) fail(`${at}.expose: ${port}`);
    const deps = Array.isArray(svc.depends_on)
      ? Object.fromEntries(svc.depends_on.map((d) => [d, { condition: 'service_started' }]))
      : (svc.depends_on ?? {});
    for (const [dep, spec] of Object.entries(deps)) {
      if (!services[dep]) fail(`${at}.depends_on: no service ${dep}`);
      const condition = spec?.condition;
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition))
        fail(`${at}.depends_on.${dep}: condition ${condition}`);
      if (condition === 'service_healthy' && !services[dep]?.healthcheck)
        fail(`${at}.depends_on.${dep}: service_healthy but ${dep} has no healthcheck`);
    }
    if (svc.healthcheck) {
      for (const key of Object.keys(svc.healthcheck))
        if (!HEALTHCHECK_KEYS.has(key)) fail(`${at}.healthcheck: unknown key ${key}`);
      const test = svc.healthcheck.test;
      if (Array.isArray(test) ? !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]) : typeof test !== 'string')
        fail(`${at}.healthcheck.test must be a string or [CMD|CMD-SHELL, …]`);
      for (const key of ['interval', 'timeout', 'start_period']) {
        if (svc.healthcheck[key] !== undefined && !DURATION.test(svc.healthcheck[key]))
          fail(`${at}.healthcheck.${key}: ${svc.healthcheck[key]} is not a duration`);
      }
    }
    if (svc.stop_grace_period !== undefined && !DURATION.test(svc.stop_grace_period))
      fail(`${at}.stop_grace_period: not a duration`);
    for (const volume of svc.volumes ?? []) {
      const spec = typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`;
      const [source] = spec.split(':');
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!fs.existsSync(path.resolve(ROOT, source))) fail(`${at}.volumes: bind source ${source} does not exist`);
      } else if (!(source in volumes)) {
        fail(`${at}.volumes: named volume ${source} is not declared under volumes`);
      }
    }
  }
  for (const key of Object.keys(doc)) if (key.startsWith('x-')) delete doc[key];
  return doc;
}

/** The proxy must send /api/ to every API service, on the port the API listens on, and listen where it is published. */
function checkProxy(doc) {
  const conf = fs.readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  const open = (conf.match(/\{/g) ?? []).length;
  const close = (conf.match(/\}/g) ?? []).length;
  if (open !== close) fail(`deploy/nginx.conf: ${open} "{" but ${close} "}"`);
  const upstreams = [...conf.matchAll(/^\s*server\s+([A-Za-z0-9._-]+):(\d+)/gm)].map((m) => ({
    host: m[1],
    port: m[2],
  }));
  const apiServices = Object.entries(doc.services).filter(([, s]) => s.image === 'umb-api:local' || s.build);
  if (apiServices.length < 2) fail(`expected two API replicas, found ${apiServices.length}`);
  for (const [name, svc] of apiServices) {
    const port = String(svc.environment?.PORT ?? '8000');
    if (!upstreams.some((u) => u.host === name && u.port === port))
      fail(`deploy/nginx.conf: no upstream server ${name}:${port}`);
    if (svc.environment?.HOST !== '0.0.0.0') fail(`services.${name}: HOST must be 0.0.0.0 in a container`);
    if (![undefined, '0.0.0.0'].includes(svc.environment?.LISTEN_HOST))
      fail(`services.${name}: LISTEN_HOST must be 0.0.0.0 in a container`);
    if (!/^redis:\/\//.test(svc.environment?.REDIS_URL ?? ''))
      fail(`services.${name}: REDIS_URL must point at the redis service (limits shared by the replicas)`);
    if (!/^postgres(ql)?:\/\/.+@postgres:5432\//.test(svc.environment?.DATABASE_URL ?? ''))
      fail(`services.${name}: DATABASE_URL must point at the postgres service`);
  }
  for (const u of upstreams)
    if (!doc.services[u.host]) fail(`deploy/nginx.conf: upstream ${u.host} is not a compose service`);
  const proxy = doc.services.proxy;
  const listen = /^\s*listen\s+(\d+)/m.exec(conf)?.[1];
  if (!proxy) fail('no proxy service');
  else if (!(proxy.ports ?? []).some((p) => String(p).endsWith(`:${listen}`)))
    fail(`proxy: nginx listens on ${listen}, which no published port maps to`);
  if (!/location\s+\/api\/\s*\{[^}]*proxy_pass\s+http:\/\/api;/.test(conf))
    fail('deploy/nginx.conf: /api/ is not proxied to the api upstream');
}

function checkDockerfile() {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...text.matchAll(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/gim)];
  if (stages.length < 2) fail('Dockerfile: expected a multi-stage build');
  if (!/^RUN npm ci\b/m.test(text)) fail('Dockerfile: dependencies should be installed with npm ci');
  if (!/npm run build/.test(text)) fail('Dockerfile: no build step');
  if (!/^USER\s+(?!root\b)\S+/m.test(text)) fail('Dockerfile: the runtime stage must switch to a non-root user');
  if (!/^CMD\s+\["node",\s*"dist\/apps\/api\/src\/main\.js"\]/m.test(text))
    fail('Dockerfile: CMD must run node dist/apps/api/src/main.js directly (signals reach it)');
  if (!/HOST=0\.0\.0\.0/.test(text)) fail('Dockerfile: HOST=0.0.0.0 must be set');
  // A .env passed with --env-file overrides HOST; LISTEN_HOST wins over it, so the container stays reachable.
  if (!/LISTEN_HOST=0\.0\.0\.0/.test(text)) fail('Dockerfile: LISTEN_HOST=0.0.0.0 must be set');
  if (!/^VOLUME\s+(\[\s*"\/app\/data"\s*\]|\/app\/data)\s*$/m.test(text))
    fail('Dockerfile: DATA_DIR (/app/data) must be a VOLUME');
  for (const m of text.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+\S+$/gm)) {
    for (const src of m[1].trim().split(/\s+/))
      if (!fs.existsSync(path.join(ROOT, src))) fail(`Dockerfile: COPY source ${src} does not exist`);
  }
  const ignore = fs.existsSync(path.join(ROOT, '.dockerignore'))
    ? fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    : '';
  for (const needed of ['node_modules', 'dist', '.env'])
    if (!ignore.split('\n').includes(needed)) fail(`.dockerignore should exclude ${needed}`);
}

// What compose would read from .env; a placeholder for the one variable the file requires.
const env = { ...process.env, ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? 'placeholder-for-the-check' };
const resolved = checkCompose(env);
checkProxy(resolved);
checkDockerfile();
if (process.argv.includes('--print')) console.log(JSON.stringify(resolved, null, 2));
if (problems.length) {
  console.error(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`ok: ${Object.keys(resolved.services).join(', ')}`);
