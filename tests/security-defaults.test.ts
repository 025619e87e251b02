// Security defaults (spec D18, D26): LATCHKEY_SECURITY_DEFAULTS sets a new tenant's value (a tenant that
// exists keeps its own); with them on, a user with no MFA method meets "More information required" at
// sign-in with no way past it, the bootstrap administrator and the demo users register at first sign-in,
// and the demo start prints what the README says; `npm run cli -- demo totp alice` gives the code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { loadConfig } from '../src/config/index.js';
import { currentTotpCodes } from '../src/demo/totp.js';
import { DEMO, DEMO_SIGNIN_HINT } from '../src/directory/seed.js';
import { tenantSettings } from '../src/directory/settings.js';
import { createUser } from '../src/directory/users.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { listMethods } from '../src/methods/store.js';
import { startServer } from '../src/server.js';
import { Jar, authorize, pkce, token, type StepAnswers, startSignIn } from './helpers/http-signin.js';
import { totpAt } from './helpers/mfa.js';
import { startTestServer, testCa, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const REDIRECT = 'http://localhost:41299';

function nativeParams() {
  const { verifier, challenge } = pkce();
  return { verifier, params: { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' } };
}

async function amrOf(server: TestServer, code: string, verifier: string): Promise<string[]> {
  const t = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope: 'openid' });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return decodeJwt(t.body.id_token!).amr as string[];
}

function cli(server: TestServer, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir, LATCHKEY_LOG_LEVEL: 'warn' } });
}

describe('security defaults', () => {
  test('LATCHKEY_SECURITY_DEFAULTS sets a new tenant\'s value; a tenant that exists keeps its own', async () => {
    for (const [first, later] of [[true, false], [false, true]] as const) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-secdef-'));
      const config = (on: boolean) => loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: String(on) }, { dataDir: dir, port: 0, tlsCaCert: testCa(), bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: 'x-automation-secret' });
      assert.equal(config(first).securityDefaults, first);
      let server = await startServer(config(first));
      try {
        assert.equal((await tenantSettings(server.store.db, server.tenantId)).security_defaults, first ? 1 : 0, 'a new tenant takes the configured value');
        await server.close();
        server = await startServer(config(later));
        assert.equal((await tenantSettings(server.store.db, server.tenantId)).security_defaults, first ? 1 : 0, 'the tenant keeps its own value');
      } finally {
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.equal(loadConfig({}).securityDefaults, true, 'on by default');
  });

  test('off (what the test servers start with): a user with no method signs in without a second factor', async () => {
    const server = await startTestServer('sqlite');
    try {
      assert.equal((await tenantSettings(server.store.db, server.tenantId)).security_defaults, 0);
      const p = nativeParams();
      const out = await authorize(server, new Jar(), p.params, { user: `alice@${server.tenantDomain}`, password: DEMO.demoPassword });
      assert.deepEqual(await amrOf(server, out.redirect!.searchParams.get('code')!, p.verifier), ['pwd']);
    } finally {
      await server.close();
    }
  });

  describe('on', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer('sqlite', { bootstrapAdminPassword: '', automationClientSecret: '' }, { LATCHKEY_SECURITY_DEFAULTS: 'true' });
    });
    after(async () => {
      await server?.close();
    });

    test('first start prints how the demo users sign in, and the README says the same', () => {
      assert.equal(server.config.securityDefaults, true);
      assert.ok(server.printed.includes(`Demo users alice@, bob@, carol@${server.tenantDomain} with password ${DEMO.demoPassword}`));
      assert.ok(server.printed.includes(`Demo sign-in: ${DEMO_SIGNIN_HINT}`), server.printed.join('\n'));
      assert.ok(server.printed.some((p) => p.startsWith('Security defaults are on')));
      const readme = fs.readFileSync('README.md', 'utf8');
      assert.ok(readme.includes(DEMO.demoPassword), 'the README names the demo password');
      assert.ok(readme.includes('npm run cli -- demo totp alice'), 'the README names the command for the code');
      assert.match(readme, /More information required/);
    });

    test('a new user with no method meets "More information required", and there is no way past it', async () => {
      const upn = `dana@${server.tenantDomain}`;
      await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'Dana New', password: DEMO.demoPassword });
      const jar = new Jar();
      const { at } = await startSignIn(server, jar, nativeParams().params);
      const page = async () => {
        const r = await fetch(at, { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.take(r);
        const html = await r.text();
        return { html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', step: /name="step" value="([^"]+)"/.exec(html)?.[1] ?? '' };
      };
      const post = async (fields: Record<string, string>) => {
        const r = await fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
        jar.take(r);
        return { status: r.status, html: r.status === 303 ? '' : await r.text() };
      };
      let p = await page();
      await post({ csrf: p.csrf, step: 'username', loginfmt: upn });
      p = await page();
      await post({ csrf: p.csrf, step: 'password', passwd: DEMO.demoPassword });
      p = await page();
      assert.equal(p.step, 'register');
      assert.match(p.html, /More information required/);
      assert.doesNotMatch(p.html, /skip/i, 'no "Skip for now" (D26)');
      const forgeries: Record<string, string>[] = [{ step: 'kmsi', kmsi: 'yes' }, { step: 'skip' }, { step: 'register', code: '' }, { step: 'register', skip: 'yes' }];
      for (const forged of forgeries) {
        const r = await post({ csrf: p.csrf, ...forged });
        assert.notEqual(r.status, 303, `${JSON.stringify(forged)} does not get past the interrupt`);
        assert.equal((await page()).step, 'register');
      }
      const u = (await createdUser(server, upn))!;
      assert.equal((await listMethods(server.store.db, u)).length, 0);
      const secret = /id="totpSecret">([A-Z2-7]+)</.exec((await page()).html)![1]!;
      const done = await post({ csrf: p.csrf, step: 'register', code: totpAt(secret) });
      assert.equal(done.status, 200, 'on to Stay signed in?');
      assert.equal((await page()).step, 'kmsi');
    });

    test('alice signs in as the README says: `demo totp alice` gives the code at "More information required", and again at her next sign-in', async () => {
      const alice = `alice@${server.tenantDomain}`;
      const none = await cli(server, 'demo', 'totp', 'alice');
      assert.match(none.stdout, /no authenticator app yet/);
      const first = nativeParams();
      const jar = new Jar();
      const shown = await startSignIn(server, jar, first.params);
      const at = shown.at;
      let html = shown.html;
      const step = async (fields: Record<string, string>) => {
        const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
        const r = await fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...fields }), redirect: 'manual' });
        jar.take(r);
        html = r.status === 303 ? '' : await r.text();
        return r;
      };
      await step({ step: 'username', loginfmt: alice });
      await step({ step: 'password', passwd: DEMO.demoPassword });
      assert.match(html, /name="step" value="register"/);
      const out = await cli(server, 'demo', 'totp', 'alice');
      const code = /^(\d{6}) {2}\(the app being set up /m.exec(out.stdout)?.[1];
      assert.ok(code, out.stdout);
      await step({ step: 'register', code });
      assert.match(html, /name="step" value="kmsi"/, html.slice(0, 300));
      const back = await step({ step: 'kmsi', kmsi: 'no' });
      assert.equal(back.status, 303);
      let location = back.headers.get('location')!;
      for (let i = 0; i < 5 && !location.startsWith(REDIRECT); i++) {
        const r = await fetch(new URL(location, server.origin), { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.take(r);
        location = r.headers.get('location') ?? '';
      }
      assert.ok((await amrOf(server, new URL(location).searchParams.get('code')!, first.verifier)).includes('mfa'));

      // the next sign-in asks for the app's code: the command's code of the next time step (this one is used)
      const codes = (await currentTotpCodes(server.store.db, server.secrets, { id: server.tenantId, domain: server.tenantDomain }, 'alice', Date.now() + PERIOD_S * 1000))!;
      assert.deepEqual(codes.map((c) => c.status), ['active']);
      const second = nativeParams();
      const asked: string[] = [];
      const again = await authorize(server, new Jar(), second.params, { user: alice, password: DEMO.demoPassword, answers: { mfa: () => (asked.push('mfa'), { method: 'softwareOath', code: codes[0]!.code }) } });
      assert.deepEqual(asked, ['mfa']);
      assert.ok((await amrOf(server, again.redirect!.searchParams.get('code')!, second.verifier)).includes('mfa'));
    });

    test('the bootstrap administrator changes the one-time password, then registers an authenticator app', async () => {
      const line = server.printed.find((p) => p.startsWith('Global Administrator'))!;
      const oneTime = /: (\S+)$/.exec(line)![1]!;
      const order: string[] = [];
      const answers: StepAnswers = {
        change_password: () => (order.push('change_password'), { oldpasswd: oneTime, newpasswd: 'Quiet-Harbor-Lantern-58', confirmnewpasswd: 'Quiet-Harbor-Lantern-58' }),
        register: (html) => (order.push('register'), { code: totpAt(/id="totpSecret">([A-Z2-7]+)</.exec(html)![1]!) }),
      };
      const p = nativeParams();
      const out = await authorize(server, new Jar(), p.params, { user: `admin@${server.tenantDomain}`, password: oneTime, answers });
      assert.deepEqual(order, ['change_password', 'register']);
      assert.ok((await amrOf(server, out.redirect!.searchParams.get('code')!, p.verifier)).includes('mfa'));
    });

    test('`demo totp --help` exits 0 and describes the command', async () => {
      const out = await cli(server, 'demo', 'totp', '--help');
      assert.match(out.stdout, /usage: npm run cli -- demo totp <user>/);
    });
  });
});

async function createdUser(server: TestServer, upn: string): Promise<string | undefined> {
  const row = await server.store.db.selectFrom('users').select('id').where('upn_lower', '=', upn.toLowerCase()).executeTakeFirst();
  return row?.id;
}
