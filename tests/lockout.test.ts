// Smart lockout (spec §9, D12) over plain HTTP: 10 distinct wrong passwords lock for 60 s and a locked
// account refuses even the right password (AADSTS50053) without changing the user; the first wrong
// password after a lockout expires locks again, for longer; the same wrong password repeated does not
// count; an unfamiliar address cannot lock out a familiar one; X-Forwarded-For counts only with
// trustProxy; the counters keep keyed hashes, never passwords or password hashes. The server runs in this
// process, so node:test's Date mock moves its clock (spec D5: no sleeping).
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { DEFAULT_LOCKOUT, checkLocked, locationOf, recordFailure } from '../src/methods/password/lockout.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { Jar, pkce, startSignIn } from './helpers/http-signin.js';

const RIGHT = DEMO.demoPassword;
const LOCKED_MESSAGE = 'Your account is temporarily locked to prevent unauthorized use. Try again later. (AADSTS50053)';

interface PasswordStep {
  server: TestServer;
  at: URL;
  jar: Jar;
  csrf: string;
}

interface Attempt {
  status: number;
  /** the step the page now shows */
  step: string;
  /** the page's error message, if any */
  error: string;
  /** the AADSTS code in the error, if any */
  code?: number;
}

function forwarded(ip?: string): Record<string, string> {
  return ip ? { 'x-forwarded-for': ip } : {};
}

/** Starts an authorization request and fills the user-name page; returns the password page's form. */
async function passwordStep(server: TestServer, upn: string, ip?: string): Promise<PasswordStep> {
  const jar = new Jar();
  const { challenge } = pkce();
  const q = new URLSearchParams({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: 'http://localhost', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
  const { at, html, status } = await startSignIn(server, jar, Object.fromEntries(q), forwarded(ip));
  assert.equal(status, 200, 'authorize answers with the user-name page');
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, 'the page carries a CSRF token');
  const step: PasswordStep = { server, at, jar, csrf };
  const r = await post(step, { step: 'username', loginfmt: upn }, ip);
  assert.equal(r.step, 'password', `the password page: ${r.status} ${r.error}`);
  return step;
}

async function post(s: PasswordStep, fields: Record<string, string>, ip?: string): Promise<Attempt> {
  const res = await fetch(s.at, {
    method: 'POST',
    headers: { cookie: s.jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...forwarded(ip) },
    body: new URLSearchParams({ csrf: s.csrf, ...fields }),
    redirect: 'manual',
  });
  s.jar.take(res);
  const html = await res.text();
  const step = /name="step" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const error = /id="passwordError"[^>]*>([^<]*)</.exec(html)?.[1]?.replace(/&#39;/g, "'") ?? '';
  const code = /AADSTS(\d+)/.exec(error)?.[1];
  return { status: res.status, step, error, ...(code ? { code: Number(code) } : {}) };
}

const tryPassword = (s: PasswordStep, passwd: string, ip?: string) => post(s, { step: 'password', passwd }, ip);

function assertWrong(r: Attempt, what: string) {
  assert.equal(r.code, 50126, `${what}: ${r.status} ${r.error}`);
  assert.equal(r.status, 400, what);
  assert.equal(r.step, 'password', what);
}

function assertLocked(r: Attempt, what: string) {
  assert.equal(r.code, 50053, `${what}: ${r.status} ${r.error}`);
  assert.equal(r.error, LOCKED_MESSAGE, what);
  assert.equal(r.status, 429, what);
  assert.equal(r.step, 'password', `${what}: still on the password page`);
}

function assertSignedIn(r: Attempt, what: string) {
  assert.equal(r.step, 'kmsi', `${what}: expected "Stay signed in?", got ${r.status} ${r.step} ${r.error}`);
  assert.equal(r.status, 200, what);
}

test('locationOf: /24 for IPv4 (also IPv4-mapped), /48 for IPv6', () => {
  assert.equal(locationOf('10.1.2.3'), '10.1.2.0/24');
  assert.equal(locationOf('10.1.2.77'), '10.1.2.0/24');
  assert.notEqual(locationOf('10.1.3.3'), locationOf('10.1.2.3'));
  assert.equal(locationOf('::ffff:203.0.113.9'), '203.0.113.0/24');
  assert.equal(locationOf('2001:db8:1:2::5'), '2001:db8:1::/48');
  assert.equal(locationOf('2001:0DB8:0001:ffff:0:0:0:1'), '2001:db8:1::/48');
  assert.equal(locationOf('2001:db8::1'), '2001:db8:0::/48');
  assert.equal(locationOf('::1'), '0:0:0::/48');
  assert.equal(locationOf('fe80::1%eth0'), 'fe80:0:0::/48');
  assert.equal(locationOf('64:ff9b::192.0.2.1'), '64:ff9b:0::/48');
});

for (const dbKind of await databases()) {
  describe(`smart lockout (${dbKind})`, () => {
    let server: TestServer;
    let proxied: TestServer;
    let n = 0;

    before(async () => {
      [server, proxied] = await Promise.all([startTestServer(dbKind), startTestServer(dbKind, { trustProxy: true })]);
    });
    after(async () => {
      mock.timers.reset();
      await Promise.all([server?.close(), proxied?.close()]);
    });

    async function newUser(on: TestServer) {
      const upn = `lockout-${++n}-${dbKind}@${on.tenantDomain}`;
      const user = await createUser(on.store.db, { tenantId: on.tenantId, upn, displayName: `Lockout ${n}`, password: RIGHT });
      return { id: user.id, upn };
    }

    const userRow = (on: TestServer, id: string) => on.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const lockRows = (on: TestServer, id: string) => on.store.db.selectFrom('signin_lockouts').selectAll().where('user_id', '=', id).orderBy('location').execute();

    test('10 distinct wrong passwords lock the account: the 11th attempt, even with the right password, gets AADSTS50053 and changes nothing', async () => {
      const u = await newUser(server);
      const s = await passwordStep(server, u.upn);
      for (let i = 1; i <= 10; i++) assertWrong(await tryPassword(s, `Wrong-Password-${i}`), `wrong password ${i}`);
      const before = await userRow(server, u.id);
      const counterBefore = await lockRows(server, u.id);
      assertLocked(await tryPassword(s, RIGHT), 'the right password while locked');
      assertLocked(await tryPassword(s, 'Wrong-Password-11'), 'a wrong password while locked');
      assert.deepEqual(await userRow(server, u.id), before, 'the refused attempts did not change the user');
      assert.deepEqual(await lockRows(server, u.id), counterBefore, 'attempts while locked neither count nor extend the lock');
      // a new sign-in flow from the same place is locked too
      assertLocked(await tryPassword(await passwordStep(server, u.upn), RIGHT), 'a fresh flow while locked');
      const log = await server.store.db.selectFrom('signin_log').selectAll().where('user_id', '=', u.id).orderBy('id').execute();
      assert.equal(log.filter((r) => r.error_code === 50126).length, 10, 'ten wrong passwords logged');
      const locked = log.filter((r) => r.error_code === 50053);
      assert.equal(locked.length, 3, 'each refusal while locked is logged with 50053');
      assert.ok(locked.every((r) => r.status === 'failure' && /locked/.test(r.reason ?? '')), JSON.stringify(locked));
    });

    test('after the lock expires the right password works; a wrong one right after expiry locks again, for longer', async () => {
      const u = await newUser(server);
      const s = await passwordStep(server, u.upn);
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      try {
        for (let i = 1; i <= 10; i++) assertWrong(await tryPassword(s, `Wrong-Password-${i}`), `wrong password ${i}`);
        assertLocked(await tryPassword(s, RIGHT), 'locked at once');
        mock.timers.tick(59_000);
        assertLocked(await tryPassword(s, RIGHT), 'still locked after 59 s');
        mock.timers.tick(2_000);
        // the first (distinct) wrong password after expiry locks again, now for 120 s
        assertWrong(await tryPassword(s, 'Wrong-Password-after-expiry'), 'the first wrong password after expiry');
        assertLocked(await tryPassword(s, RIGHT), 'locked again by one wrong password after expiry');
        const [row] = await lockRows(server, u.id);
        assert.equal(row?.lockouts, 2);
        assert.equal(row?.locked_until, Date.now() + 120_000, 'the second lockout lasts twice as long');
        mock.timers.tick(61_000);
        assertLocked(await tryPassword(s, RIGHT), 'the second lockout outlasts 60 s');
        mock.timers.tick(60_000);
        assertSignedIn(await tryPassword(s, RIGHT), 'the right password after the second lockout expired');
        assert.deepEqual(await lockRows(server, u.id), [], 'a success starts the counter over');
        // and a later single mistake does not lock
        const again = await passwordStep(server, u.upn);
        assertWrong(await tryPassword(again, 'Wrong-Password-later'), 'one later mistake');
        assertSignedIn(await tryPassword(again, RIGHT), 'signs in after one later mistake');
      } finally {
        mock.timers.reset();
      }
    });

    test('the lockout duration and threshold come from configuration', async () => {
      const short = await startTestServer(dbKind, { lockoutThreshold: 3, lockoutDurationSeconds: 5 });
      try {
        const upn = `lockout-cfg-${dbKind}@${short.tenantDomain}`;
        await createUser(short.store.db, { tenantId: short.tenantId, upn, displayName: 'Lockout cfg', password: RIGHT });
        const s = await passwordStep(short, upn);
        mock.timers.enable({ apis: ['Date'], now: Date.now() });
        try {
          for (let i = 1; i <= 3; i++) assertWrong(await tryPassword(s, `Wrong-Password-${i}`), `wrong password ${i}`);
          assertLocked(await tryPassword(s, RIGHT), 'locked after 3');
          mock.timers.tick(5_001);
          assertSignedIn(await tryPassword(s, RIGHT), 'unlocked after 5 s');
        } finally {
          mock.timers.reset();
        }
      } finally {
        await short.close();
      }
    });

    test('the same wrong password repeated 20 times does not lock; neither does cycling through 3', async () => {
      const u = await newUser(server);
      const s = await passwordStep(server, u.upn);
      for (let i = 1; i <= 20; i++) assertWrong(await tryPassword(s, 'Same-Wrong-Password'), `repeat ${i}`);
      let [row] = await lockRows(server, u.id);
      assert.equal(row?.failures, 1, 'a repeated wrong password counts once');
      for (let i = 0; i < 15; i++) assertWrong(await tryPassword(s, `Typo-${i % 3}`), `cycle ${i}`);
      [row] = await lockRows(server, u.id);
      assert.equal(row?.failures, 4, 'the last 3 distinct wrong passwords count once each');
      assert.equal(row?.locked_until, null);
      assertSignedIn(await tryPassword(s, RIGHT), 'the right password still works');
    });

    test('an unfamiliar address cannot lock out a familiar one (X-Forwarded-For with trustProxy)', async () => {
      const u = await newUser(proxied);
      // a success from the office makes 10.1.2.0/24 familiar
      assertSignedIn(await tryPassword(await passwordStep(proxied, u.upn, '10.1.2.3'), RIGHT, '10.1.2.3'), 'success from 10.1.2.3');
      const familiar = await proxied.store.db.selectFrom('familiar_locations').selectAll().where('user_id', '=', u.id).execute();
      assert.deepEqual(familiar.map((f) => f.prefix), ['10.1.2.0/24']);
      // an attacker elsewhere
      const attacker = await passwordStep(proxied, u.upn, '203.0.113.9');
      for (let i = 1; i <= 10; i++) assertWrong(await tryPassword(attacker, `Guess-${i}`, '203.0.113.9'), `guess ${i}`);
      assertLocked(await tryPassword(attacker, RIGHT, '203.0.113.9'), 'the attacker is locked out');
      // every unfamiliar place shares the locked counter
      assertLocked(await tryPassword(await passwordStep(proxied, u.upn, '198.51.100.7'), RIGHT, '198.51.100.7'), 'another unfamiliar address');
      // the user at the office (same /24, another host) still signs in
      assertSignedIn(await tryPassword(await passwordStep(proxied, u.upn, '10.1.2.77'), RIGHT, '10.1.2.77'), 'the familiar address');
      const rows = await lockRows(proxied, u.id);
      assert.deepEqual(rows.map((r) => r.location), ['unfamiliar'], 'only the unfamiliar counter exists');
      assert.ok(rows[0]!.locked_until! > Date.now(), 'and it stays locked after the familiar success');
      assertLocked(await tryPassword(attacker, RIGHT, '203.0.113.9'), 'the attacker is still locked out');
      const log = await proxied.store.db.selectFrom('signin_log').select(['ip', 'error_code']).where('user_id', '=', u.id).execute();
      assert.ok(log.some((r) => r.ip === '203.0.113.9' && r.error_code === 50053), 'the log shows the forwarded address');
    });

    test('without trustProxy, X-Forwarded-For is ignored: every attempt counts as 127.0.0.1', async () => {
      const u = await newUser(server);
      const s = await passwordStep(server, u.upn, '10.9.9.9');
      for (let i = 1; i <= 10; i++) assertWrong(await tryPassword(s, `Wrong-Password-${i}`, `203.0.113.${i}`), `wrong password ${i}`);
      assertLocked(await tryPassword(await passwordStep(server, u.upn, '10.1.2.3'), RIGHT, '10.1.2.3'), 'a forged address is locked too');
      const log = await server.store.db.selectFrom('signin_log').select('ip').where('user_id', '=', u.id).execute();
      assert.equal(log.length, 11);
      assert.deepEqual([...new Set(log.map((r) => r.ip))], ['127.0.0.1'], 'the log shows the socket address');
      // and a success from "elsewhere" makes only the real prefix familiar
      const v = await newUser(server);
      assertSignedIn(await tryPassword(await passwordStep(server, v.upn, '10.1.2.3'), RIGHT, '10.1.2.3'), 'success');
      const familiar = await server.store.db.selectFrom('familiar_locations').select('prefix').where('user_id', '=', v.id).execute();
      assert.deepEqual(familiar.map((f) => f.prefix), ['127.0.0.0/24']);
    });

    test('concurrent failures (as from several instances) are all counted, and the lock is taken once', async () => {
      const u = await newUser(server);
      const db = server.store.db;
      const now = Date.now();
      const outs = await Promise.all(Array.from({ length: 9 }, (_, i) => recordFailure(db, server.secrets, u.id, '192.0.2.1', `Parallel-${i}`, now)));
      assert.ok(outs.every((o) => o.counted && !o.locked));
      let [row] = await lockRows(server, u.id);
      assert.equal(row?.failures, 9, 'no lost update');
      const last = await Promise.all(Array.from({ length: 5 }, (_, i) => recordFailure(db, server.secrets, u.id, '192.0.2.1', `Parallel-last-${i}`, now)));
      assert.equal(last.filter((o) => o.counted).length, 1, 'one failure takes the lock; the rest find it locked');
      [row] = await lockRows(server, u.id);
      assert.equal(row?.lockouts, 1);
      assert.equal(row?.locked_until, now + DEFAULT_LOCKOUT.durationMs);
      assert.equal((await checkLocked(db, u.id, '192.0.2.200', now)).locked, true);
      assert.equal((await checkLocked(db, u.id, '192.0.2.200', now + DEFAULT_LOCKOUT.durationMs)).locked, false);
    });

    test('a burst of parallel wrong passwords from separate sign-in flows is all counted: the right password sent with them is refused', async () => {
      const u = await newUser(server);
      const flows = await Promise.all(Array.from({ length: 16 }, () => passwordStep(server, u.upn)));
      const wrong = flows.slice(0, 15).map((f, i) => tryPassword(f, `Burst-Wrong-${i}`));
      await new Promise((r) => setTimeout(r, 30)); // the burst is in flight; the right password follows it
      const results = await Promise.all([...wrong, tryPassword(flows[15]!, RIGHT)]);
      assert.ok(results.slice(10, 15).every((r) => r.code === 50053 || r.code === 50126));
      const wrongChecked = results.slice(0, 15).filter((r) => r.code === 50126).length;
      assert.ok(wrongChecked <= 10, `at most 10 wrong passwords were checked before the lock, got ${wrongChecked}`);
      // the right password came last in the queue: the lock stands
      assert.equal(results[15]!.code, 50053, `${results[15]!.status} ${results[15]!.error}`);
      const rows = await lockRows(server, u.id);
      assert.ok(rows.some((r) => r.locked_until !== null && r.locked_until > Date.now()), 'the counter is locked');
    });

    test('the counters store keyed hashes of wrong passwords, never the passwords or password hashes', async () => {
      const u = await newUser(server);
      const v = await newUser(server);
      const wrong = ['Wrong-Password-A', 'Wrong-Password-B', 'Wrong-Password-C', 'Wrong-Password-D'];
      const s = await passwordStep(server, u.upn);
      for (const w of wrong) assertWrong(await tryPassword(s, w), w);
      const t = await passwordStep(server, v.upn);
      assertWrong(await tryPassword(t, wrong[3]!), 'same wrong password, other user');
      const [row] = await lockRows(server, u.id);
      assert.ok(row);
      const recent = JSON.parse(row.recent_bad) as unknown[];
      assert.equal(recent.length, 3, 'only the last 3 distinct wrong passwords are remembered');
      assert.equal(new Set(recent).size, 3);
      const hash = (await userRow(server, u.id)).password_hash!;
      for (const h of recent) {
        assert.equal(typeof h, 'string');
        const value = h as string;
        assert.ok(!value.startsWith('$argon2'), `not an argon2 string: ${value}`);
        assert.notEqual(value, hash);
        for (const p of [...wrong, RIGHT]) assert.ok(!value.includes(p), `no password in ${value}`);
        assert.match(value, /^[\w-]{43}$/, 'an HMAC-SHA-256 in base64url');
      }
      const all = JSON.stringify(await server.store.db.selectFrom('signin_lockouts').selectAll().execute());
      for (const p of [...wrong, RIGHT]) assert.ok(!all.includes(p), `no "${p}" in the lockout table`);
      assert.ok(!all.includes('$argon2'), 'no argon2 string in the lockout table');
      const [other] = await lockRows(server, v.id);
      assert.ok(!recent.includes((JSON.parse(other!.recent_bad) as string[])[0]), 'the hashes are keyed per user');
    });
  });
}
