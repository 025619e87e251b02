// The test command: typecheck, lint, then every tests/**/*.test.ts with node's test runner.
// It creates one local CA before any test process starts and passes it to every server under test
// through NODE_EXTRA_CA_CERTS (spec D19: Node reads it only at process start).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const caDir = path.join(root, '.test-ca');
const caCert = path.join(caDir, 'ca.crt');
const caKey = path.join(caDir, 'ca.key');
if (!fs.existsSync(caCert) || !fs.existsSync(caKey)) {
  fs.mkdirSync(caDir, { recursive: true, mode: 0o700 });
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  execFileSync('openssl', ['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '30', '-subj', '/CN=Latchkey test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCert], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const only = process.argv.slice(2);
if (!only.length) {
  console.log('> typecheck');
  run('npx', ['tsc', '--noEmit']);
  run('npx', ['tsc', '--noEmit', '-p', 'portal']);
  console.log('> lint');
  run('npx', ['eslint', '--max-warnings=0', '.']);
}

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}
// The servers under test serve the admin portal's build: make it (when missing or stale) before any starts.
console.log('> admin portal build');
run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'build-portal.ts')]);

const files = only.length ? only : find(path.join(root, 'tests')).sort();
const env = { ...process.env, NODE_EXTRA_CA_CERTS: caCert, LATCHKEY_TEST_CA: `${caCert},${caKey}` };
console.log(`> tests (${files.length} files)`);
// The timeout also bounds each file as a whole: the longest (the revocation matrix, ten browser cases on
// two databases) takes about five minutes on a busy 2-core machine.
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], env);
