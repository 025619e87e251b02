// FIDO2 passkeys over HTTP, without a browser (a software authenticator answers the pages' WebAuthn
// options): a passkey is the first factor and MFA at once, without a user name or after it; the session
// is not password-based; and every bad assertion or attestation (replayed, wrong origin or RP id, another
// flow's challenge, a counter going backwards, malformed, unknown credential) is refused on the page,
// changes nothing, and is logged in the sign-in log with its reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { SECURITY_INFO_APP_ID, SECURITY_INFO_PATH } from '../src/directory/first-party.js';
import { type User, createUser } from '../src/directory/users.js';
import { listMethods, listMethodsOfType } from '../src/methods/store.js';
import { Jar, authorize, pkce, token, startSignIn } from './helpers/http-signin.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { SoftAuthenticator, VIRTUAL_AAGUID, cbor, givePasskey as registerPasskey, pageOptions } from './helpers/passkey.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'http://localhost';
/** Pages escape apostrophes; the messages are matched as read. */
const unescape = (html: string) => html.replace(/&#39;/g, "'");

for (const dbKind of await databases()) {
  describe(`FIDO2 passkeys over HTTP (${dbKind})`, () => {
    let server: TestServer;
    let n = 0;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    async function newUser(): Promise<User> {
      n++;
      return createUser(server.store.db, { tenantId: server.tenantId, upn: `pk${n}-${dbKind}@${server.tenantDomain}`, displayName: `Passkey user ${n}`, password: DEMO.demoPassword });
    }

    const givePasskey = (user: User, auth: SoftAuthenticator) => registerPasskey(server, user, auth);

    /** A fresh authorization's sign-in page: its URL, the cookie jar and the page. */
    async function signinPage() {
      const jar = new Jar();
      const { challenge } = pkce();
      const q = new URLSearchParams({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile offline_access', code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
      const { at, html } = await startSignIn(server, jar, Object.fromEntries(q));
      return { jar, at, html };
    }

    async function post(jar: Jar, at: URL, html: string, fields: Record<string, string>) {
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const res = await fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...fields }), redirect: 'manual' });
      jar.take(res);
      return { status: res.status, location: res.headers.get('location'), html: unescape(await res.text()) };
    }

    const lastLog = async () => server.store.db.selectFrom('signin_log').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    const passkeyRow = async (userId: string) => (await listMethodsOfType(server.store.db, userId, 'fido2'))[0]!;

    test('without a user name: the passkey signs in with MFA, the session is not password-based, amr holds mfa', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin);
      await givePasskey(user, auth);
      const verifier = pkce();
      const q = { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile offline_access', code_challenge: verifier.challenge, code_challenge_method: 'S256' };
      const jar = new Jar();
      const out = await authorize(server, jar, q, { user: 'nobody', password: 'unused', answers: { username: (html) => ({ credential: JSON.stringify(auth.get(pageOptions(html))) }) } });
      assert.ok(out.redirect?.searchParams.get('code'), `back to the app: ${out.status} ${out.html?.slice(0, 300)}`);
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier.verifier });
      assert.equal(t.status, 200);
      const claims = decodeJwt(t.body.id_token!);
      assert.equal(claims.oid, user.id);
      assert.deepEqual(claims.amr, ['rsa', 'mfa']);
      const session = await server.store.db.selectFrom('signin_sessions').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.deepEqual([session.password_based, session.mfa_at !== null, JSON.parse(session.methods)], [0, true, ['fido2']]);
      const log = await server.store.db.selectFrom('signin_log').selectAll().where('user_id', '=', user.id).where('status', '=', 'success').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(log.methods!), ['fido2']);
      assert.equal((await passkeyRow(user.id)).last_step, 1, 'the signature counter moved to the assertion’s');
    });

    test('after the user name: the passkey page comes first, lists the user’s passkey, and signs in', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin, { synced: true });
      const credentialId = await givePasskey(user, auth);
      const p = await signinPage();
      let r = await post(p.jar, p.at, p.html, { step: 'username', loginfmt: user.upn });
      assert.equal(r.status, 200);
      assert.match(r.html, /<h1>Sign in with a passkey<\/h1>/);
      assert.match(r.html, /id="usePassword"/);
      const options = pageOptions(r.html);
      assert.deepEqual(options.allowCredentials.map((c) => c.id), [credentialId]);
      r = await post(p.jar, p.at, r.html, { step: 'passkey', credential: JSON.stringify(auth.get(options)) });
      assert.equal(r.status, 200, r.html.slice(0, 300));
      assert.match(r.html, /Stay signed in\?/);
      // the password stays available: "Use your password instead", then the password page offers the passkey again
      const q = await signinPage();
      r = await post(q.jar, q.at, q.html, { step: 'username', loginfmt: user.upn });
      r = await post(q.jar, q.at, r.html, { step: 'use_password' });
      assert.match(r.html, /id="i0118"/);
      assert.match(r.html, /id="usePasskey"/);
    });

    test('bad assertions are refused on the page, change nothing, and are logged with their reason', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin);
      await givePasskey(user, auth);
      const stranger = new SoftAuthenticator(server.origin);
      await givePasskey(await newUser(), stranger);
      const other = await signinPage();
      const otherChallenge = pageOptions(other.html).challenge;
      const forged = new SoftAuthenticator(server.origin);
      forged.create({ rp: { id: 'localhost' }, user: { id: 'eA' }, challenge: 'x' });

      // each: what is posted on a fresh user-name page, the page's message, the logged reason
      const cases: [string, (options: { challenge: string; rpId: string }) => unknown, RegExp, string][] = [
        ['wrong origin', (o) => auth.get(o, { origin: 'https://evil.example' }), /made for another website/, 'origin'],
        ['wrong RP id', (o) => auth.get(o, { rpId: 'evil.example' }), /made for another website/, 'rp_id'],
        ['challenge of another flow', (o) => auth.get(o, { challenge: otherChallenge }), /expired or was already used/, 'challenge'],
        ['unknown credential id', (o) => forged.get(o), /don't recognize that passkey/, 'unknown_credential'],
        ['user not verified', (o) => auth.get(o, { flags: 0x01 }), /did not verify you/, 'user_verification'],
        ['a create answer posted to sign in', (o) => auth.get(o, { type: 'webauthn.create' }), /couldn't read/, 'type'],
        ['not JSON', () => '{"id":', /couldn't read/, 'malformed'],
        ['signature of another key', (o) => ({ ...(auth.get(o) as { response: object }), response: { ...(stranger.get(o) as { response: object }).response, userHandle: undefined } }), /couldn't verify/, 'signature'],
      ];
      for (const [what, make, message, reason] of cases) {
        const before = await passkeyRow(user.id);
        const logsBefore = (await lastLog()).id;
        const p = await signinPage();
        const body = make(pageOptions(p.html));
        const r = await post(p.jar, p.at, p.html, { step: 'username', credential: typeof body === 'string' ? body : JSON.stringify(body) });
        assert.equal(r.status, 400, `${what}: refused (${r.status})`);
        assert.match(r.html, message, what);
        assert.match(r.html, /AADSTS500121/, what);
        assert.match(r.html, /data-options=/, `${what}: the page offers the passkey again, with a new challenge`);
        assert.notEqual(pageOptions(r.html).challenge, pageOptions(p.html).challenge, what);
        const after = await passkeyRow(user.id);
        assert.deepEqual([after.last_step, after.last_used_at], [before.last_step, before.last_used_at], `${what}: nothing changed`);
        const log = await lastLog();
        assert.ok(log.id > logsBefore, `${what}: logged`);
        assert.deepEqual([log.status, log.error_code], ['failure', 500121], what);
        assert.match(log.reason ?? '', new RegExp(`passkey refused.*${reason}`), what);
      }
      // the other flow's challenge was not spent by the refusal: it still signs in there
      const r = await post(other.jar, other.at, other.html, { step: 'username', credential: JSON.stringify(auth.get(pageOptions(other.html))) });
      assert.match(r.html, /Stay signed in\?/);
      assert.equal(await server.store.db.selectFrom('signin_sessions').select('id').where('user_id', '=', user.id).executeTakeFirst(), undefined, 'no session was made by any refusal');
    });

    test('a replayed assertion is refused: on a new flow, and when the same one is posted twice at once', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin);
      await givePasskey(user, auth);
      const p = await signinPage();
      const assertion = JSON.stringify(auth.get(pageOptions(p.html)));
      const [a, b] = await Promise.all([post(p.jar, p.at, p.html, { step: 'username', credential: assertion }), post(p.jar, p.at, p.html, { step: 'username', credential: assertion })]);
      // one is accepted; the other finds the challenge taken (400) or, when it comes after the first one
      // moved the flow on, the flow at its next step (409)
      const accepted = [a, b].filter((x) => x.status === 200);
      const refused = [a, b].filter((x) => x.status !== 200);
      assert.equal(accepted.length, 1, `one of two identical posts is accepted (${a.status}, ${b.status})`);
      assert.match(accepted[0]!.html, /Stay signed in\?/);
      assert.ok([400, 409].includes(refused[0]!.status), `the other is refused (${refused[0]!.status})`);
      assert.match(refused[0]!.html, /expired or was already used|This page was out of date/);
      const counter = (await passkeyRow(user.id)).last_step;
      const q = await signinPage();
      const r = await post(q.jar, q.at, q.html, { step: 'username', credential: assertion });
      assert.equal(r.status, 400);
      assert.match(r.html, /expired or was already used/);
      assert.equal((await passkeyRow(user.id)).last_step, counter);
      assert.match((await lastLog()).reason ?? '', /passkey refused.*: challenge/);
    });

    test('the signature counter: not above a stored non-zero counter is refused and logged; 0 after 0 is accepted', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin);
      await givePasskey(user, auth);
      const signInWith = async (counter: number) => {
        const p = await signinPage();
        return post(p.jar, p.at, p.html, { step: 'username', credential: JSON.stringify(auth.get(pageOptions(p.html), { counter })) });
      };
      assert.match((await signInWith(0)).html, /Stay signed in\?/, '0 after 0');
      assert.match((await signInWith(0)).html, /Stay signed in\?/, '0 after 0 again');
      assert.match((await signInWith(10)).html, /Stay signed in\?/);
      for (const c of [5, 10, 0]) {
        const r = await signInWith(c);
        assert.equal(r.status, 400, `counter ${c} after 10`);
        assert.match(r.html, /copy of an earlier one/);
        assert.equal((await passkeyRow(user.id)).last_step, 10);
        assert.match((await lastLog()).reason ?? '', /passkey refused.*: counter/);
      }
      assert.match((await signInWith(11)).html, /Stay signed in\?/);
    });

    test('the Fido2 policy governs use: a disabled method refuses the passkey with the reason', async () => {
      const user = await newUser();
      const auth = new SoftAuthenticator(server.origin);
      await givePasskey(user, auth);
      const { readMethodsPolicy, writeMethodsPolicy, rememberMethodsPolicy } = await import('../src/methods/policy.js');
      const stored = await readMethodsPolicy(server.store.db, server.tenantId);
      const doc = structuredClone(stored.doc);
      doc.configurations.Fido2.state = 'disabled';
      const written = await writeMethodsPolicy(server.store.db, server.tenantId, doc, stored.version, Date.now());
      rememberMethodsPolicy(server.store.db, server.tenantId, written!);
      try {
        const p = await signinPage();
        const r = await post(p.jar, p.at, p.html, { step: 'username', credential: JSON.stringify(auth.get(pageOptions(p.html))) });
        assert.equal(r.status, 403);
        assert.match(r.html, /policy doesn't let you use a passkey \(disabled in the authentication methods policy\)/);
        // after the user name, the password page comes, not the passkey page
        const q = await signinPage();
        const s = await post(q.jar, q.at, q.html, { step: 'username', loginfmt: user.upn });
        assert.match(s.html, /id="i0118"/);
      } finally {
        const now = await readMethodsPolicy(server.store.db, server.tenantId);
        const back = await writeMethodsPolicy(server.store.db, server.tenantId, stored.doc, now.version, Date.now());
        rememberMethodsPolicy(server.store.db, server.tenantId, back!);
      }
    });

    test('My Security Info: a passkey is registered after recent MFA; a malformed attestation or a stale MFA is refused and logged', async () => {
      const user = await newUser();
      const secret = await enrollTotp(server, user);
      const verifier = pkce();
      const jar = new Jar();
      const out = await authorize(server, jar, { client_id: SECURITY_INFO_APP_ID, response_type: 'code', redirect_uri: `${server.origin}${SECURITY_INFO_PATH}`, scope: 'openid profile', code_challenge: verifier.challenge, code_challenge_method: 'S256' }, { user: user.upn, password: DEMO.demoPassword, answers: { mfa: () => ({ method: 'softwareOath', code: totpAt(secret) }) } });
      assert.ok(out.redirect, `signed in to My Security Info (${out.status})`);
      const page = async (form?: Record<string, string>, html?: string) => {
        const csrf = html ? /name="csrf" value="([^"]+)"/.exec(html)![1]! : '';
        const res = await fetch(`${server.origin}${SECURITY_INFO_PATH}`, form ? { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...form }) } : { headers: { cookie: jar.header() } });
        return { status: res.status, html: unescape(await res.text()) };
      };
      let r = await page();
      assert.match(r.html, /id="addPasskey"/);
      r = await page({ op: 'add_passkey' }, r.html);
      const options = pageOptions<{ challenge: string; rp: { id: string }; user: { id: string } }>(r.html);
      assert.equal(options.rp.id, 'localhost');
      const pendingId = /name="pendingId" value="([^"]+)"/.exec(r.html)![1]!;
      const auth = new SoftAuthenticator(server.origin);
      // malformed attestation object: refused, nothing registered, logged
      const bad = auth.create(options);
      bad.response.attestationObject = cbor(new Map([['fmt', 'none']])).toString('base64url');
      let s = await page({ op: 'confirm_passkey', pendingId, credential: JSON.stringify(bad), passkeyName: 'Bad' }, r.html);
      assert.equal(s.status, 400);
      assert.match(s.html, /couldn't read the passkey/);
      assert.deepEqual((await listMethods(server.store.db, user.id)).map((m) => m.type), ['softwareOath']);
      assert.match((await lastLog()).reason ?? '', /passkey registration refused: malformed/);
      // wrong origin: refused likewise
      s = await page({ op: 'confirm_passkey', pendingId, credential: JSON.stringify(auth.create(options, { origin: 'https://evil.example' })), passkeyName: 'Bad' }, r.html);
      assert.equal(s.status, 400);
      // the pending registration still stands: the real answer registers the passkey
      s = await page({ op: 'confirm_passkey', pendingId, credential: JSON.stringify(auth.create(options)), passkeyName: 'My laptop' }, r.html);
      assert.equal(s.status, 200, s.html.slice(0, 400));
      assert.match(s.html, /Passkey added\./);
      assert.match(s.html, /My laptop · device-bound/);
      const row = await passkeyRow(user.id);
      assert.equal(JSON.parse(row.state).aaguid, VIRTUAL_AAGUID);
      const audit = await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', user.id).execute();
      assert.deepEqual(audit.map((a) => a.activity), ['User registered security info']);
      // the same pending registration cannot be used twice
      s = await page({ op: 'confirm_passkey', pendingId, credential: JSON.stringify(auth.create(options)), passkeyName: 'Again' }, r.html);
      assert.equal(s.status, 400);
      assert.match(s.html, /set-up expired/);
      // MFA more than 5 minutes old: adding (and deleting) a passkey needs a new verification
      await server.store.db.updateTable('signin_sessions').set({ mfa_at: Date.now() - 6 * 60_000 }).where('user_id', '=', user.id).execute();
      s = await page({ op: 'add_passkey' }, r.html);
      assert.equal(s.status, 403);
      assert.match(s.html, /verify your identity again/);
      assert.match(s.html, /href="[^"]*prompt=login" id="reverify"/);
      s = await page({ op: 'delete', methodId: row.id }, r.html);
      assert.equal(s.status, 403);
      assert.equal((await listMethodsOfType(server.store.db, user.id, 'fido2')).length, 1);
    });
  });
}
