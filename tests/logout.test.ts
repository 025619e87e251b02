// Sign-out as MSAL.js asks for it (logoutRedirect: a post_logout_redirect_uri and a logout_hint, no
// client_id, no id_token_hint), as Entra answers it: back to the address when an app the browser session
// signed in to registers it, and without the account picker when the hint names the session's account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../src/directory/apps.js';
import { createUser } from '../src/directory/users.js';
import { Jar, authorize, pkce } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const PW = 'Logout-Test-Pass-2026!';

for (const kind of await databases()) {
  describe(`sign-out by post_logout_redirect_uri and logout_hint (${kind})`, () => {
    let server: TestServer;
    let userId = '';
    let spaId = '';
    const spaUri = () => `${server.origin}/lo-spa/`;
    const otherUri = () => `${server.origin}/lo-other/`;

    before(async () => {
      server = await startTestServer(kind);
      userId = (await createUser(server.store.db, { tenantId: server.tenantId, upn: `logout@${server.tenantDomain}`, displayName: 'logout', password: PW })).id;
      spaId = (await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Logout SPA', kind: 'spa', redirectUris: [spaUri()] })).id;
      // an app the browser never signs in to, registering another address
      await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Logout other app', kind: 'spa', redirectUris: [otherUri()] });
    });
    after(async () => {
      await server?.close();
    });

    /** A browser signed in to the SPA. */
    async function signedIn(): Promise<Jar> {
      const jar = new Jar();
      const p = pkce();
      const out = await authorize(server, jar, { client_id: spaId, redirect_uri: spaUri(), response_type: 'code', scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: `logout@${server.tenantDomain}`, password: PW });
      assert.ok(out.redirect?.searchParams.get('code'), JSON.stringify(out));
      return jar;
    }
    const hintFor = (uid: string) => Buffer.from(JSON.stringify({ uid, utid: server.tenantId, upn: 'x' })).toString('base64url');
    const logout = async (jar: Jar, params: Record<string, string>) => {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/logout?${new URLSearchParams(params)}`, { headers: { cookie: jar.header() }, redirect: 'manual' });
      jar.take(res);
      return { status: res.status, csp: res.headers.get('content-security-policy') ?? '', html: await res.text() };
    };
    /** Posts the page's logout form as the browser would (its script, or the Sign out button), returning where it leads. */
    const confirm = async (jar: Jar, html: string, extra: Record<string, string> = {}) => {
      const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, html.slice(0, 500));
      const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, m[2]!]));
      const res = await fetch(new URL(action, server.origin), { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, ...extra }), redirect: 'manual' });
      jar.take(res);
      return { status: res.status, location: res.headers.get('location') ?? '' };
    };

    test("a logout_hint naming the session's account signs out without the picker and returns to the SPA's address, with state", async () => {
      const jar = await signedIn();
      const page = await logout(jar, { post_logout_redirect_uri: spaUri(), logout_hint: hintFor(userId), state: 'st-1' });
      assert.equal(page.status, 200);
      assert.match(page.html, /<h1>Signing you out…<\/h1>/);
      assert.doesNotMatch(page.html, /Pick an account/);
      assert.match(page.html, /name="logout" value="yes"/, 'the form confirms the sign-out itself');
      assert.match(page.csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/, 'its one script allowed by its hash');
      const done = await confirm(jar, page.html);
      assert.equal(done.status, 303);
      assert.equal(done.location, `${spaUri()}?state=st-1`);
      // signed out: authorize asks again
      const again = await authorize(server, jar, { client_id: spaId, redirect_uri: spaUri(), response_type: 'code', scope: 'openid', prompt: 'none', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      assert.equal(again.redirect?.searchParams.get('error'), 'login_required');
    });

    test('a logout_hint naming another account, or none, shows the account picker; the SPA’s address is still where it leads', async () => {
      for (const hint of [hintFor('00000000-0000-4000-8000-000000000000'), 'not-base64-json', undefined]) {
        const jar = await signedIn();
        const page = await logout(jar, { post_logout_redirect_uri: spaUri(), ...(hint ? { logout_hint: hint } : {}) });
        assert.equal(page.status, 200);
        assert.match(page.html, /Pick an account to sign out/, String(hint));
        assert.doesNotMatch(page.html, /name="logout" value="yes"/);
        const done = await confirm(jar, page.html, { logout: 'yes' });
        assert.equal(done.status, 303);
        assert.equal(done.location, spaUri(), String(hint));
      }
    });

    test("an address no app of the session registers is not followed: the engine's signed-out page", async () => {
      for (const uri of [otherUri(), 'https://evil.example/']) {
        const jar = await signedIn();
        const page = await logout(jar, { post_logout_redirect_uri: uri, logout_hint: hintFor(userId) });
        assert.equal(page.status, 200);
        const done = await confirm(jar, page.html);
        assert.equal(done.status, 303);
        assert.equal(new URL(done.location, server.origin).pathname, `/${server.tenantId}/oauth2/v2.0/logout/success`, uri);
      }
    });
  });
}
