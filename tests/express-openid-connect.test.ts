// An unmodified server-side web app: Express with Auth0's express-openid-connect (npm), a confidential
// web app registered in Latchkey, signing a user in through Latchkey's pages in real Chromium. The app
// listens on plain http on localhost, as on a developer's machine; Latchkey is HTTPS with the test CA
// (NODE_EXTRA_CA_CERTS, set by scripts/test.mjs, makes the app's server side trust it).
// - code flow (query and form_post): `req.oidc.isAuthenticated()`, `req.oidc.user`, `req.oidc.accessToken`
//   and its `refresh()`, `req.oidc.fetchUserInfo()`; the token endpoint called with client_secret_basic
//   (the library's default for a code flow);
// - sign-out at Latchkey's end-session endpoint with the library's id_token_hint, client_id and
//   post_logout_redirect_uri = baseURL: Entra's "Pick an account" page (Entra shows it unless a
//   logout_hint names the account), then back at the app, signed out, with Latchkey's session ended;
//   promptless with the library's `logoutParams` carrying the ID token's `login_hint` as logout_hint;
// - the library's default configuration (response_type id_token, response_mode form_post): Latchkey
//   issues tokens by authorization code only, and the refusal comes back to the app's callback by form_post.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addAppSecret, createApp } from '../src/directory/apps.js';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser, signIn } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const PW = 'Express-Oidc-Pass-2026!';
const SESSION_COOKIE = '__Host-lk_session';

/** A call the app's server side made to Latchkey's token endpoint, as seen through the library's `customFetch`. */
interface TokenCall {
  grantType: string | null;
  authorization: string;
  status: number;
  body: Record<string, unknown>;
}

interface Rp {
  server: http.Server;
  baseURL: string;
  clientID: string;
  tokenCalls: TokenCall[];
}

/** What the app's routes answer (JSON). */
interface Home {
  authenticated: boolean;
  user: Record<string, unknown> | null;
}
interface Tokens {
  idToken: string | null;
  idTokenClaims: Record<string, unknown> | null;
  accessToken: { access_token: string; token_type: string; expires_in: number; isExpired: boolean } | null;
  refreshToken: string | null;
}
interface AppError {
  message: string;
  error: string | null;
}

describe('express-openid-connect, an unmodified Express web app in Chromium (sqlite)', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  const rps: Rp[] = [];
  let userId = '';
  const upn = () => `express-user@${server.tenantDomain}`;
  const mail = () => `express.user@${server.tenantDomain}`;

  before(async () => {
    server = await startTestServer('sqlite');
    const user = await createUser(server.store.db, { tenantId: server.tenantId, upn: upn(), displayName: 'Express User', mail: mail(), password: PW });
    userId = user.id;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    for (const rp of rps) {
      rp.server.closeAllConnections();
      await new Promise<void>((resolve) => rp.server.close(() => resolve()));
    }
    await server?.close();
  });

  /**
   * An Express app on a port of its own, registered in Latchkey as a confidential web app (redirect URI
   * `{baseURL}/callback`, post-logout URI `{baseURL}`, a client secret), with `auth()` configured from the
   * brief's parameters and `extra`.
   */
  async function startRp(extra: (clientSecret: string) => Partial<ConfigParams>): Promise<Rp> {
    const app = express();
    // Chromium asks for the favicon after each page of the app; through auth() its answer would roll the
    // session cookie, and one still on its way when /logout clears the cookie would set it again
    app.get('/favicon.ico', (_req, res) => void res.status(204).end());
    const httpServer = http.createServer(app);
    await new Promise<void>((resolve) => httpServer.listen(0, 'localhost', resolve));
    const baseURL = `http://localhost:${(httpServer.address() as AddressInfo).port}`;
    const reg = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Express web app', kind: 'web', redirectUris: [`${baseURL}/callback`], postLogoutRedirectUris: [baseURL] });
    const clientSecret = await addAppSecret(server.store.db, reg.id);
    const tokenCalls: TokenCall[] = [];
    // the library's own hook for its HTTP calls: recorded, passed through unchanged
    const customFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input instanceof Request ? input.url : input).endsWith('/oauth2/v2.0/token')) {
        const form = new URLSearchParams(init?.body instanceof URLSearchParams || typeof init?.body === 'string' ? init.body : '');
        tokenCalls.push({ grantType: form.get('grant_type'), authorization: new Headers(init?.headers).get('authorization') ?? '', status: res.status, body: (await res.clone().json()) as Record<string, unknown> });
      }
      return res;
    };
    app.use(
      auth({
        issuerBaseURL: server.issuer,
        baseURL,
        clientID: reg.id,
        clientSecret,
        secret: crypto.randomBytes(32).toString('base64url'),
        authRequired: false,
        customFetch,
        ...extra(clientSecret),
      }),
    );
    app.get('/', (req, res) => {
      res.json({ authenticated: req.oidc.isAuthenticated(), user: req.oidc.user ?? null } satisfies Home);
    });
    app.get('/tokens', (req, res) => {
      const at = req.oidc.accessToken;
      res.json({
        idToken: req.oidc.idToken ?? null,
        idTokenClaims: req.oidc.idTokenClaims ?? null,
        accessToken: at ? { access_token: at.access_token, token_type: at.token_type, expires_in: at.expires_in, isExpired: at.isExpired() } : null,
        refreshToken: req.oidc.refreshToken ?? null,
      } satisfies Tokens);
    });
    app.get('/refresh', async (req, res, next) => {
      try {
        const at = await req.oidc.accessToken!.refresh();
        res.json({ access_token: at.access_token, token_type: at.token_type });
      } catch (e) {
        next(e);
      }
    });
    app.get('/userinfo', async (req, res, next) => {
      try {
        res.json(await req.oidc.fetchUserInfo());
      } catch (e) {
        next(e);
      }
    });
    // sign-out without the account picker: the library's logoutParams with the ID token's login_hint
    app.get('/logout-promptless', (req, res) => res.oidc.logout({ logoutParams: { logout_hint: req.oidc.idTokenClaims?.login_hint } }));
    // an error handler is told apart by its four parameters
    app.use((err: Error & { status?: number; error?: string }, _req: Request, res: Response, next: NextFunction) => {
      void next;
      res.status(err.status ?? 500).json({ message: err.message, error: err.error ?? null } satisfies AppError);
    });
    const rp = { server: httpServer, baseURL, clientID: reg.id, tokenCalls };
    rps.push(rp);
    return rp;
  }

  /** The brief's configuration: code flow with the OIDC scopes and offline_access, sign-out at Latchkey. */
  const codeFlow = (responseMode?: 'form_post') => (): Partial<ConfigParams> => ({
    idpLogout: true,
    authorizationParams: { response_type: 'code', scope: 'openid profile email offline_access', ...(responseMode ? { response_mode: responseMode } : {}) },
  });

  async function json<T>(page: Page, url: string): Promise<{ status: number; body: T }> {
    const r = await page.request.get(url);
    return { status: r.status(), body: (await r.json()) as T };
  }

  /** The claims express-openid-connect shows as `req.oidc.user`: the ID token's, less its protocol claims, with the sid it keeps. */
  function expectedUser(sid: unknown) {
    return {
      sid,
      sub: userId,
      oid: userId,
      tid: server.tenantId,
      ver: '2.0',
      amr: ['pwd'],
      login_hint: Buffer.from(JSON.stringify({ uid: userId, utid: server.tenantId, upn: upn() })).toString('base64url'),
      name: 'Express User',
      preferred_username: upn(),
      email: mail(),
    };
  }
  const expectedUserinfo = () => ({ sub: userId, oid: userId, tid: server.tenantId, name: 'Express User', preferred_username: upn(), email: mail() });

  /** /login → Latchkey's authorize → its sign-in pages → back at the app's home page; returns the authorize URL. */
  async function signInThroughApp(page: Page, rp: Rp): Promise<URL> {
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/authorize`));
    await page.goto(`${rp.baseURL}/login`);
    const url = new URL((await authorize).url());
    await signIn(page, upn(), PW);
    await page.waitForURL(`${rp.baseURL}/`);
    return url;
  }

  test('code flow: sign-in, the user, the access token, refresh, userinfo, then sign-out at Latchkey', async () => {
    const rp = await startRp(codeFlow());
    const context: BrowserContext = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      const authorize = await signInThroughApp(page, rp);
      assert.equal(authorize.searchParams.get('client_id'), rp.clientID);
      assert.equal(authorize.searchParams.get('response_type'), 'code');
      assert.equal(authorize.searchParams.get('response_mode'), null);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${rp.baseURL}/callback`);
      assert.equal(authorize.searchParams.get('scope'), 'openid profile email offline_access');
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');

      // the code was redeemed with client_secret_basic (the library's default for a code flow)
      assert.equal(rp.tokenCalls.length, 1);
      const [redeem] = rp.tokenCalls;
      assert.equal(redeem!.grantType, 'authorization_code');
      assert.match(redeem!.authorization, /^Basic /);
      assert.equal(redeem!.status, 200);
      assert.equal(redeem!.body.token_type, 'Bearer');
      assert.deepEqual(String(redeem!.body.scope).split(' ').sort(), ['email', 'openid', 'profile']);
      assert.equal(typeof redeem!.body.refresh_token, 'string');

      const home = await json<Home>(page, `${rp.baseURL}/`);
      assert.equal(home.status, 200);
      assert.equal(home.body.authenticated, true);
      const sid = home.body.user?.sid;
      assert.match(String(sid), /^[\w-]{20,}$/, 'the ID token carries a sid, which the library keeps');
      assert.deepEqual(home.body.user, expectedUser(sid));

      const tokens = (await json<Tokens>(page, `${rp.baseURL}/tokens`)).body;
      assert.equal(tokens.idTokenClaims?.aud, rp.clientID);
      assert.equal(tokens.idTokenClaims?.iss, server.issuer);
      assert.equal(tokens.idTokenClaims?.nonce, authorize.searchParams.get('nonce'));
      assert.equal(tokens.accessToken?.access_token, redeem!.body.access_token);
      assert.equal(tokens.accessToken?.token_type, 'Bearer');
      assert.equal(tokens.accessToken?.isExpired, false);
      // spec D1: a random lifetime between 60 and 90 minutes (a few seconds have passed since)
      assert.ok(tokens.accessToken!.expires_in > 3500 && tokens.accessToken!.expires_in <= 5400, `expires_in ${tokens.accessToken!.expires_in}`);
      assert.equal(tokens.refreshToken, redeem!.body.refresh_token);

      const info = await json<Record<string, unknown>>(page, `${rp.baseURL}/userinfo`);
      assert.equal(info.status, 200);
      assert.deepEqual(info.body, expectedUserinfo());

      // req.oidc.accessToken.refresh(): the refresh-token grant, a new access token and ID token
      const refreshed = await json<{ access_token: string; token_type: string }>(page, `${rp.baseURL}/refresh`);
      assert.equal(refreshed.status, 200);
      assert.equal(rp.tokenCalls.length, 2);
      const refresh = rp.tokenCalls[1]!;
      assert.equal(refresh.grantType, 'refresh_token');
      assert.match(refresh.authorization, /^Basic /);
      assert.equal(refresh.status, 200);
      assert.equal(typeof refresh.body.id_token, 'string');
      // spec D2: a confidential client's refresh token is not rotated
      assert.equal(refresh.body.refresh_token, redeem!.body.refresh_token);
      assert.equal(refreshed.body.access_token, refresh.body.access_token);
      assert.notEqual(refreshed.body.access_token, redeem!.body.access_token);
      assert.equal(refreshed.body.token_type, 'Bearer');

      const after = (await json<Tokens>(page, `${rp.baseURL}/tokens`)).body;
      assert.equal(after.accessToken?.access_token, refresh.body.access_token);
      assert.equal(after.idToken, refresh.body.id_token);
      assert.equal(after.refreshToken, redeem!.body.refresh_token);
      assert.deepEqual((await json<Home>(page, `${rp.baseURL}/`)).body.user, expectedUser(sid), 'the refreshed ID token names the same user and session');
      assert.deepEqual((await json<Record<string, unknown>>(page, `${rp.baseURL}/userinfo`)).body, expectedUserinfo(), 'userinfo takes the refreshed access token');

      // /logout → Latchkey's end-session with id_token_hint, client_id and post_logout_redirect_uri = baseURL
      const endSession = page.waitForRequest((r) => r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/logout?`));
      await page.goto(`${rp.baseURL}/logout`);
      const logoutUrl = new URL((await endSession).url());
      assert.equal(logoutUrl.searchParams.get('id_token_hint'), after.idToken);
      assert.equal(logoutUrl.searchParams.get('client_id'), rp.clientID);
      assert.equal(logoutUrl.searchParams.get('post_logout_redirect_uri'), rp.baseURL);
      // as Entra: without a logout_hint the person confirms which account signs out
      await page.waitForSelector('text=Pick an account to sign out');
      await page.click('#idSIButton9');
      await page.waitForURL(`${rp.baseURL}/`);
      assert.deepEqual(await json<Home>(page, `${rp.baseURL}/`), { status: 200, body: { authenticated: false, user: null } });
      assert.equal((await context.cookies(server.origin)).find((c) => c.name === SESSION_COOKIE), undefined, "Latchkey's browser session cookie is gone");

      // Latchkey's session ended: signing in again asks for the user name
      await page.goto(`${rp.baseURL}/login`);
      await page.waitForSelector('#i0116');
      assert.ok(page.url().startsWith(`${server.origin}/`), page.url());
    } finally {
      await context.close();
    }
  });

  test("sign-out without the account picker: the library's logoutParams with the ID token's login_hint", async () => {
    const rp = await startRp(codeFlow());
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await signInThroughApp(page, rp);
      const { body: tokens } = await json<Tokens>(page, `${rp.baseURL}/tokens`);
      const endSession = page.waitForRequest((r) => r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/logout?`));
      const pages: string[] = [];
      page.on('framenavigated', (f) => {
        if (f === page.mainFrame()) pages.push(f.url());
      });
      await page.goto(`${rp.baseURL}/logout-promptless`);
      const logoutUrl = new URL((await endSession).url());
      assert.equal(logoutUrl.searchParams.get('logout_hint'), tokens.idTokenClaims?.login_hint);
      assert.equal(logoutUrl.searchParams.get('id_token_hint'), tokens.idToken);
      await page.waitForURL(`${rp.baseURL}/`);
      assert.deepEqual(await json<Home>(page, `${rp.baseURL}/`), { status: 200, body: { authenticated: false, user: null } });
      assert.equal((await context.cookies(server.origin)).find((c) => c.name === SESSION_COOKIE), undefined);
      assert.equal(await page.locator('#idSIButton9').count(), 0, 'no page to click on the way back');
    } finally {
      await context.close();
    }
  });

  test('code flow with response_mode=form_post: the code is posted to the callback', async () => {
    const rp = await startRp(codeFlow('form_post'));
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      const callbacks: { method: string; body: URLSearchParams }[] = [];
      page.on('request', (r) => {
        if (r.url() === `${rp.baseURL}/callback`) callbacks.push({ method: r.method(), body: new URLSearchParams(r.postData() ?? '') });
      });
      const authorize = await signInThroughApp(page, rp);
      assert.equal(authorize.searchParams.get('response_mode'), 'form_post');
      assert.equal(callbacks.length, 1);
      assert.equal(callbacks[0]!.method, 'POST');
      assert.deepEqual([...callbacks[0]!.body.keys()].sort(), ['code', 'iss', 'state']);
      assert.equal(callbacks[0]!.body.get('iss'), server.issuer);
      const home = await json<Home>(page, `${rp.baseURL}/`);
      assert.equal(home.body.authenticated, true);
      assert.deepEqual(home.body.user, expectedUser(home.body.user?.sid));
      assert.equal(rp.tokenCalls.length, 1);
      assert.equal(rp.tokenCalls[0]!.status, 200);
    } finally {
      await context.close();
    }
  });

  test("the library's default configuration (response_type id_token, form_post): refused, the error posted back to the app", async () => {
    // no response_type, response_mode or idpLogout: the library's defaults
    const rp = await startRp(() => ({}));
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      const callback = page.waitForRequest((r) => r.url() === `${rp.baseURL}/callback`);
      const authorize = page.waitForRequest((r) => r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/authorize`));
      await page.goto(`${rp.baseURL}/login`);
      const authorizeUrl = new URL((await authorize).url());
      assert.equal(authorizeUrl.searchParams.get('response_type'), 'id_token');
      assert.equal(authorizeUrl.searchParams.get('response_mode'), 'form_post');
      assert.equal(authorizeUrl.searchParams.get('scope'), 'openid profile email');
      const posted = await callback;
      assert.equal(posted.method(), 'POST');
      const form = new URLSearchParams(posted.postData() ?? '');
      assert.equal(form.get('error'), 'unsupported_response_type');
      assert.equal(form.get('state'), authorizeUrl.searchParams.get('state'));
      const answer = await posted.response();
      assert.equal(answer?.status(), 400);
      assert.deepEqual(await answer?.json(), { message: 'authorization response from the server is an error', error: 'unsupported_response_type' });
      assert.deepEqual(await json<Home>(page, `${rp.baseURL}/`), { status: 200, body: { authenticated: false, user: null } });
      assert.equal(rp.tokenCalls.length, 0);
      const refusals = await server.store.db.selectFrom('signin_log').select(['status']).where('app_id', '=', rp.clientID).execute();
      assert.deepEqual(refusals, [{ status: 'failure' }], 'the refusal is in the sign-in log');
    } finally {
      await context.close();
    }
  });
});
