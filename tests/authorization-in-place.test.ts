// A new sign-in's last post answers with the redirect to the app (src/protocol/authorization-in-place.ts):
// no hop through the engine's resume. What it makes must be what the resume makes: the code, the grant,
// the browser session and its cookie, compared here with those of the same request finished by the engine
// (form_post still goes through the resume). And it finishes a sign-in once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { Jar, authorize, pkce, signinFormAction, startSignIn, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'http://localhost';
const SCOPE = 'openid profile offline_access User.Read';

/** The members of an engine model's payload, without those that differ from one sign-in to the next. */
function shape(payload: object, volatile: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([k, v]) => !volatile.includes(k) && v !== undefined && typeof v !== 'function'));
}

for (const dbKind of await databases()) {
  describe(`a sign-in finished in place (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    const params = (extra: Record<string, string> = {}) => ({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'st-1', nonce: 'n-1', ...extra });

    /** Fills the pages up to the Stay signed in page; returns its form action and fields. */
    async function untilStaySignedIn(jar: Jar, p: Record<string, string>): Promise<{ at: URL; fields: Record<string, string> }> {
      let { at, html } = await startSignIn(server, jar, p);
      for (const fill of [{ loginfmt: `alice@${server.tenantDomain}` }, { passwd: DEMO.demoPassword }] as Record<string, string>[]) {
        const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
        const step = /name="step" value="([^"]+)"/.exec(html)![1]!;
        const res = await fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, step, ...fill }), redirect: 'manual' });
        jar.take(res);
        html = await res.text();
        assert.equal(res.status, 200, html.slice(0, 300));
        at = signinFormAction(html, server.origin) ?? at;
      }
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      assert.equal(/name="step" value="([^"]+)"/.exec(html)?.[1], 'kmsi');
      return { at, fields: { csrf, step: 'kmsi' } };
    }

    const post = (jar: Jar, at: URL, fields: Record<string, string>) => fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });

    test('the last post sends a new browser to the app with the code, and sets the session cookie the engine reads', async () => {
      const jar = new Jar();
      const { verifier, challenge } = pkce();
      const { at, fields } = await untilStaySignedIn(jar, params({ code_challenge: challenge }));
      const res = await post(jar, at, { ...fields, kmsi: 'yes' });
      jar.take(res);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const to = new URL(res.headers.get('location')!);
      assert.equal(to.origin + to.pathname, `${REDIRECT}/`);
      assert.deepEqual([...to.searchParams.keys()], ['code', 'state', 'iss']);
      assert.equal(to.searchParams.get('state'), 'st-1');
      assert.equal(to.searchParams.get('iss'), server.issuer);

      const cookies = res.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith('__Host-lk_session='));
      assert.match(session ?? '', /^__Host-lk_session=[\w-]+; path=\/; samesite=lax; secure; httponly; expires=[^;]+$/, cookies.join('\n'));
      assert.ok(Date.parse(/expires=(.+)$/.exec(session!)![1]!) > Date.now() + 86_400_000, 'Stay signed in: a persistent cookie');
      assert.ok(cookies.some((c) => /^__Host-lk_session\.sig=[\w-]+; path=\/; samesite=lax; secure; httponly; expires=/.test(c)), 'signed as the engine signs it');
      assert.ok(cookies.some((c) => /^__Secure-lk_resume=; path=\/[^;]+\/authorize\/[\w-]+; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax; secure; httponly$/.test(c)), `the resume cookie is cleared: ${cookies.join('\n')}`);
      assert.ok(cookies.some((c) => /^latchkey_flow=; Path=\/signin\/[\w-]+; Max-Age=0/.test(c)), 'the flow cookie is cleared');

      // the engine redeems the code
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: to.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const idToken = JSON.parse(Buffer.from(String(t.body.id_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(idToken.nonce, 'n-1');
      assert.deepEqual(idToken.amr, ['pwd']);
      assert.equal(typeof idToken.sid, 'string');
      assert.ok(t.body.refresh_token);

      // and finds the session by its cookie: the next authorize signs in without a page
      const again = await authorize(server, jar, params());
      assert.equal(again.signInPages, 0);
      assert.ok(again.redirect?.searchParams.get('code'));
    });

    test('Stay signed in = No: the session cookie lasts as long as the browser', async () => {
      const jar = new Jar();
      const { at, fields } = await untilStaySignedIn(jar, params());
      const res = await post(jar, at, { ...fields, kmsi: 'no' });
      assert.equal(res.status, 303);
      assert.ok(res.headers.get('location')!.startsWith(REDIRECT));
      const session = res.headers.getSetCookie().find((c) => c.startsWith('__Host-lk_session='));
      assert.match(session ?? '', /^__Host-lk_session=[\w-]+; path=\/; samesite=lax; secure; httponly$/);
    });

    /** An ID token of alice's, from a sign-in finished in place. */
    async function aliceIdToken(): Promise<string> {
      const { verifier, challenge } = pkce();
      const out = await authorize(server, new Jar(), params({ code_challenge: challenge }));
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier });
      return String(t.body.id_token);
    }

    test('form_post: the last post answers with the engine’s page that posts the code to the app', async () => {
      const jar = new Jar();
      const { at, fields } = await untilStaySignedIn(jar, params({ response_mode: 'form_post' }));
      const res = await post(jar, at, { ...fields, kmsi: 'yes' });
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'");
      assert.match(html, new RegExp(`<form method="post" action="${REDIRECT}">`));
      const inputs = [...html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"\/>/g)].map((m) => m[1]);
      assert.deepEqual(inputs, ['code', 'state', 'iss']);
      assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('__Host-lk_session=')));
    });

    test('the code, grant and session are those the engine’s resume makes for the same request', async () => {
      // with an id_token_hint the engine's resume finishes the sign-in (it checks the hint again)
      const hint = await aliceIdToken();
      async function signIn(through: 'engine' | 'in place') {
        const jar = new Jar();
        const { at, fields } = await untilStaySignedIn(jar, params(through === 'engine' ? { id_token_hint: hint } : {}));
        const res = await post(jar, at, { ...fields, kmsi: 'yes' });
        jar.take(res);
        assert.equal(res.status, 303);
        let location = new URL(res.headers.get('location')!, server.origin);
        if (through === 'engine') {
          assert.match(location.pathname, /\/oauth2\/v2\.0\/authorize\/[\w-]+$/);
          const resumed = await fetch(location, { headers: { cookie: jar.header() }, redirect: 'manual' });
          jar.take(resumed);
          await resumed.arrayBuffer();
          location = new URL(resumed.headers.get('location')!);
        }
        assert.equal(location.origin, REDIRECT);
        const code = await server.provider.AuthorizationCode.find(location.searchParams.get('code')!);
        assert.ok(code, 'the code is stored');
        const grant = await server.provider.Grant.find(code.grantId!);
        const session = await server.provider.Session.findByUid(code.sessionUid!);
        assert.ok(grant && session);
        const record = await server.store.db.selectFrom('signin_sessions').selectAll().where('id', '=', code.sessionUid!).executeTakeFirstOrThrow();
        return { code, grant, session, record };
      }
      const engine = await signIn('engine');
      const inPlace = await signIn('in place');

      const codeVolatile = ['jti', 'iat', 'exp', 'grantId', 'sessionUid', 'sid', 'authTime', 'codeChallenge'];
      assert.deepEqual(shape(inPlace.code, codeVolatile), shape(engine.code, codeVolatile));
      assert.deepEqual(Object.keys(inPlace.code).sort(), Object.keys(engine.code).sort(), 'the same members');
      assert.equal(inPlace.code.sid, inPlace.session.authorizations?.[DEMO.nativeAppId]?.sid);
      assert.equal(engine.code.sid, engine.session.authorizations?.[DEMO.nativeAppId]?.sid);

      const grantVolatile = ['jti', 'iat', 'exp'];
      assert.deepEqual(shape(inPlace.grant, grantVolatile), shape(engine.grant, grantVolatile));

      const sessionVolatile = ['jti', 'uid', 'iat', 'exp', 'loginTs', 'authorizations'];
      assert.deepEqual(shape(inPlace.session, sessionVolatile), shape(engine.session, sessionVolatile));
      assert.equal(inPlace.session.exp! - inPlace.session.iat!, engine.session.exp! - engine.session.iat!, 'the same lifetime');
      const authorization = (s: typeof engine.session) => Object.fromEntries(Object.entries(s.authorizations ?? {}).map(([client, a]) => [client, Object.keys(a).sort()]));
      assert.deepEqual(authorization(inPlace.session), authorization(engine.session));
      assert.equal(inPlace.session.authorizations?.[DEMO.nativeAppId]?.grantId, inPlace.grant.jti);

      const recordVolatile = ['id', 'auth_time', 'created_at', 'last_used_at'];
      assert.deepEqual(shape(inPlace.record, recordVolatile), shape(engine.record, recordVolatile));
    });

    test('a sign-in is finished once: the same last post twice at once gives one code', async () => {
      const jar = new Jar();
      const { at, fields } = await untilStaySignedIn(jar, params());
      const answers = await Promise.all([post(jar, at, { ...fields, kmsi: 'yes' }), post(jar, at, { ...fields, kmsi: 'yes' })]);
      const toApp = answers.filter((r) => r.status === 303 && r.headers.get('location')!.startsWith(REDIRECT));
      assert.equal(toApp.length, 1, answers.map((r) => `${r.status} ${r.headers.get('location')}`).join(', '));
      const other = answers.find((r) => r !== toApp[0])!;
      assert.equal(other.status, 400);
      assert.match(await other.text(), /already finished or has expired/);
      // and again later: the same page, not a server error
      const later = await post(jar, at, { ...fields, kmsi: 'yes' });
      assert.equal(later.status, 400);
    });

    test('requests whose checks the resume runs again go through it, and still end with a code', async () => {
      // written out: which authorize parameters send the last post to the engine's resume
      const throughResume: [string, Record<string, string>][] = [
        ['acr_values', { acr_values: '1' }],
        ['a claims request for the subject', { claims: JSON.stringify({ id_token: { sub: { essential: true } } }) }],
        ['prompt=consent', { prompt: 'consent' }],
      ];
      const inPlace: [string, Record<string, string>][] = [
        ['prompt=select_account', { prompt: 'select_account' }],
        ['prompt=login', { prompt: 'login' }],
        ['a claims request for an ID token claim', { claims: JSON.stringify({ id_token: { email: null } }) }],
        ['fragment', { response_mode: 'fragment' }],
      ];
      const outcomes: string[] = [];
      for (const [what, extra] of [...throughResume, ...inPlace]) {
        const jar = new Jar();
        const { at, fields } = await untilStaySignedIn(jar, params(extra));
        const res = await post(jar, at, { ...fields, kmsi: 'yes' });
        jar.take(res);
        await res.arrayBuffer();
        const location = new URL(res.headers.get('location')!, server.origin);
        const resumed = /\/oauth2\/v2\.0\/authorize\/[\w-]+$/.test(location.pathname);
        // follow the engine's redirects (a consent interaction answers itself for a browser with a session) to the app
        let to = location;
        for (let hop = 0; hop < 6 && !to.href.startsWith(REDIRECT); hop++) {
          const r = await fetch(to, { headers: { cookie: jar.header() }, redirect: 'manual' });
          jar.take(r);
          await r.arrayBuffer();
          to = new URL(r.headers.get('location') ?? `${REDIRECT}/?error=no_redirect_${r.status}`, server.origin);
        }
        const code = to.searchParams.get('code') ?? new URLSearchParams(to.hash.slice(1)).get('code');
        outcomes.push(`${what}: ${resumed ? 'resume' : 'in place'}, ${code ? 'code' : 'no code'}`);
      }
      assert.deepEqual(outcomes, [
        'acr_values: resume, code',
        'a claims request for the subject: resume, code',
        'prompt=consent: resume, code',
        'prompt=select_account: in place, code',
        'prompt=login: in place, code',
        'a claims request for an ID token claim: in place, code',
        'fragment: in place, code',
      ]);
    });

    test('a browser that has a session is finished by the engine’s resume', async () => {
      const jar = new Jar();
      const first = await authorize(server, jar, params());
      assert.ok(first.redirect?.searchParams.get('code'));
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params({ prompt: 'login' }))}`, { headers: { cookie: jar.header() }, redirect: 'manual' });
      jar.take(res);
      await res.arrayBuffer();
      const pageAt = new URL(res.headers.get('location')!, server.origin);
      const outcome = await authorize(server, jar, params({ prompt: 'login' }));
      assert.equal(outcome.signInPages, 1);
      assert.ok(outcome.redirect?.searchParams.get('code'));
      assert.match(pageAt.pathname, /^\/signin\//);
    });
  });
}
