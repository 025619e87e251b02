// Configuration: the generated docs/configuration.md is current, every bad value is refused with a
// ConfigError naming its environment variable, the defaults load from an empty environment, and the
// `npm start` entry exits with status 2 on a bad value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, configurationMarkdown, loadConfig, settings, type Config } from '../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('configuration', () => {
  test('docs/configuration.md is generated from the current settings', () => {
    const file = path.join(root, 'docs', 'configuration.md');
    const actual = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
    assert.equal(actual, configurationMarkdown(), 'docs/configuration.md is stale: run `npm run docs:config` and commit the result');
  });

  test('every setting has its own LATCHKEY_ environment variable and a description', () => {
    const envs = Object.values(settings).map((s) => s.env);
    assert.equal(new Set(envs).size, envs.length, 'two settings share an environment variable');
    for (const s of Object.values(settings)) {
      assert.match(s.env, /^LATCHKEY_[A-Z0-9_]+$/);
      assert.ok(s.description.length > 0, `${s.env} has no description`);
    }
  });

  const bad: [string, Record<string, string>][] = [
    ['LATCHKEY_PORT', { LATCHKEY_PORT: 'abc' }],
    ['LATCHKEY_PORT', { LATCHKEY_PORT: '70000' }],
    ['LATCHKEY_TLS', { LATCHKEY_TLS: 'maybe' }],
    ['LATCHKEY_TENANT_ID', { LATCHKEY_TENANT_ID: 'not-a-guid' }],
    ['LATCHKEY_PUBLIC_URL', { LATCHKEY_PUBLIC_URL: 'http://x' }],
    ['LATCHKEY_PUBLIC_URL', { LATCHKEY_PUBLIC_URL: 'https://x/path' }],
    ['LATCHKEY_DATABASE_URL', { LATCHKEY_DATABASE_URL: 'mysql://x' }],
    ['LATCHKEY_MASTER_KEY', { LATCHKEY_MASTER_KEY: 'short' }],
    ['LATCHKEY_ACCESS_TOKEN_MIN_TTL', { LATCHKEY_ACCESS_TOKEN_MIN_TTL: '7200', LATCHKEY_ACCESS_TOKEN_MAX_TTL: '3600' }],
  ];
  for (const [variable, env] of bad) {
    test(`refuses ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
          assert.ok(e.message.includes(variable), `the message should name ${variable}: ${e.message}`);
          return true;
        },
      );
    });
  }

  test('an empty environment loads the defaults', () => {
    const config = loadConfig({});
    for (const [key, def] of Object.entries(settings) as [keyof Config, (typeof settings)[keyof Config]][]) {
      assert.deepEqual(config[key], def.default, `default of ${key}`);
    }
    assert.equal(config.port, 8443);
    assert.equal(config.tls, 'auto');
    assert.equal(config.databaseUrl, '');
    assert.equal(config.demo, true);
  });

  test('good values are parsed', () => {
    const masterKey = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      LATCHKEY_PORT: '0',
      LATCHKEY_TLS: 'off',
      LATCHKEY_PUBLIC_URL: 'https://login.example.com',
      LATCHKEY_TRUST_PROXY: 'yes',
      LATCHKEY_DEMO: 'false',
      LATCHKEY_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      LATCHKEY_DATABASE_URL: 'postgresql://u@db/latchkey',
      LATCHKEY_MASTER_KEY: masterKey,
    });
    assert.equal(config.port, 0);
    assert.equal(config.tls, 'off');
    assert.equal(config.trustProxy, true);
    assert.equal(config.demo, false);
    assert.equal(config.masterKey, masterKey);
  });

  test('`npm start` (src/main.ts) exits with status 2 and names the variable on a bad value', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-config-'));
    try {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v;
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...env, LATCHKEY_PORT: 'abc', LATCHKEY_DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.error, undefined, `could not run src/main.ts: ${String(r.error)}`);
      assert.equal(r.status, 2, `exit status ${r.status}, stderr: ${r.stderr}`);
      assert.match(r.stderr, /LATCHKEY_PORT/);
      assert.deepEqual(fs.readdirSync(dataDir), [], 'nothing should be written before the configuration is valid');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
