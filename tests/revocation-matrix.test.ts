// The revocation matrix (spec §2, §5 rows Reset password, Revoke sessions, Disable, Enable; D2, D6, D9):
// for each admin action applied through Graph, four credentials of a fresh user, each held the way a real
// client holds it, are observed from outside:
//   (a) a browser session with Stay signed in = Yes (Chromium context A), probed with prompt=none;
//   (b) a browser session with Stay signed in = No (context B), probed with prompt=none;
//   (c) a native-app refresh token held by unmodified @azure/msal-node (PublicClientApplication, auth code in
//       Chromium context C), probed with acquireTokenSilent({ forceRefresh: true });
//   (d) a web-app refresh token held by openid-client (confidential, code flow in Chromium context D),
//       probed with refreshTokenGrant.
// The expected outcome of every cell is written below as a literal table taken from the spec, not read
// from src. Every credential is first observed alive (so "dead" afterwards is the action's doing), and
// the Graph-visible stamps are compared before and after (D6: only revokeSignInSessions moves
// signInSessionsValidFromDateTime; only a password reset moves lastPasswordChangeDateTime).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoProvider, InteractionRequiredAuthError, PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, captureRedirect, closeQuietly, launchBrowser, signIn } from './helpers/browser.js';
import { Jar, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };
const GRAPH = 'https://graph.microsoft.com/.default';
const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const MSAL_REDIRECT = 'http://localhost:53124';
const ADMIN_REDIRECT = 'http://localhost:5998';

type ActionName = 'reset password (generated)' | 'reset password (admin-chosen, no forced change)' | 'revoke sessions' | 'disable' | 'enable after disable';
type Cell = 'alive' | 'dead';
type Credential = 'browserStaySignedInYes' | 'browserStaySignedInNo' | 'msalNativeRefresh' | 'webAppRefresh';
type StampMove = 'moved' | 'unchanged';
type NextSignIn = 'code' | 'forced password change' | 'refused AADSTS50057';

interface Row {
  cells: Record<Credential, Cell>;
  /** the AADSTS number of a refused refresh (D9) */
  refreshRefusal: number;
  stamps: { signInSessionsValidFromDateTime: StampMove; lastPasswordChangeDateTime: StampMove };
  /** a brand-new interactive sign-in after the action (spec §5 "next sign-in") */
  nextSignIn: NextSignIn;
}

// Literal, from spec §5 and D6/D9. Every browser session here is password-based, so a reset kills it
// (rule 3); a reset kills every refresh token (rule 3 and rule 4); revoke and disable kill everything;
// enable does not revive anything (D6). D9: 50173 after revoke and after a password change or admin
// reset; 50057 while disabled. After Enable the account is enabled again, so the refusal is no longer
// "disabled": what still kills the old grants is the disabled-at stamp (rule 2), refused as revoked (50173).
const EXPECTED: Record<ActionName, Row> = {
  'reset password (generated)': {
    cells: { browserStaySignedInYes: 'dead', browserStaySignedInNo: 'dead', msalNativeRefresh: 'dead', webAppRefresh: 'dead' },
    refreshRefusal: 50173,
    stamps: { signInSessionsValidFromDateTime: 'unchanged', lastPasswordChangeDateTime: 'moved' },
    nextSignIn: 'forced password change',
  },
  'reset password (admin-chosen, no forced change)': {
    cells: { browserStaySignedInYes: 'dead', browserStaySignedInNo: 'dead', msalNativeRefresh: 'dead', webAppRefresh: 'dead' },
    refreshRefusal: 50173,
    stamps: { signInSessionsValidFromDateTime: 'unchanged', lastPasswordChangeDateTime: 'moved' },
    nextSignIn: 'code',
  },
  'revoke sessions': {
    cells: { browserStaySignedInYes: 'dead', browserStaySignedInNo: 'dead', msalNativeRefresh: 'dead', webAppRefresh: 'dead' },
    refreshRefusal: 50173,
    stamps: { signInSessionsValidFromDateTime: 'moved', lastPasswordChangeDateTime: 'unchanged' },
    nextSignIn: 'code',
  },
  disable: {
    cells: { browserStaySignedInYes: 'dead', browserStaySignedInNo: 'dead', msalNativeRefresh: 'dead', webAppRefresh: 'dead' },
    refreshRefusal: 50057,
    stamps: { signInSessionsValidFromDateTime: 'unchanged', lastPasswordChangeDateTime: 'unchanged' },
    nextSignIn: 'refused AADSTS50057',
  },
  'enable after disable': {
    cells: { browserStaySignedInYes: 'dead', browserStaySignedInNo: 'dead', msalNativeRefresh: 'dead', webAppRefresh: 'dead' },
    refreshRefusal: 50173,
    stamps: { signInSessionsValidFromDateTime: 'unchanged', lastPasswordChangeDateTime: 'unchanged' },
    nextSignIn: 'code',
  },
};

const ALL_ALIVE: Record<Credential, Cell> = { browserStaySignedInYes: 'alive', browserStaySignedInNo: 'alive', msalNativeRefresh: 'alive', webAppRefresh: 'alive' };

// One browser for the whole file (both databases), launched on first use.
let sharedBrowser: Promise<Browser> | undefined;
const browserOnce = () => (sharedBrowser ??= launchBrowser());
after(async () => {
  if (!sharedBrowser) return;
  const b = await sharedBrowser.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([b?.close().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
});

/** Closes every page quietly (some may be mid-redirect), then the context, bounded in time. */
async function dispose(context: BrowserContext): Promise<void> {
  for (const p of context.pages()) await closeQuietly(p);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([context.close().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
}

const dbKinds = skip ? (['sqlite'] as const) : await databases();

for (const dbKind of dbKinds) {
  describe(`revocation matrix (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let web: client.Configuration;
    let appToken: string;
    let adminToken: string;
    const redirectUri = () => `${server.origin}/demo/callback`;
    const authority = () => ({ authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host] });

    const g = (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${server.origin}/v1.0${path}`, {
        ...init,
        headers: { authorization: `Bearer ${init.token ?? appToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });

    before(
      async () => {
        server = await startTestServer(dbKind);
        browser = await browserOnce();
        web = await client.discovery(new URL(server.issuer), DEMO.webAppId, 'demo-portal-secret');
        // The automation app's service principal holds User Administrator: it may PATCH passwordProfile and
        // accountEnabled of a plain user (D7, §10).
        await server.store.db.insertInto('app_directory_roles').values({ app_id: DEMO.automationAppId, role: 'User Administrator' }).execute();
        const cc = await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: GRAPH });
        appToken = cc.body.access_token!;
        assert.ok(appToken, JSON.stringify(cc.body));
        // A delegated token of the Global Administrator (resetPassword is delegated only, D7).
        await server.store.db.insertInto('permission_grants').values({ client_app_id: DEMO.nativeAppId, resource_app_id: '00000003-0000-0000-c000-000000000000', kind: 'delegated', value: 'Directory.AccessAsUser.All', created_at: Date.now() }).execute();
        const p = pkce();
        const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: ADMIN_REDIRECT, scope: 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: `admin@${server.tenantDomain}`, password: 'Bootstrap-Admin-Pw-1' });
        const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: ADMIN_REDIRECT, code_verifier: p.verifier, scope: GRAPH });
        adminToken = t.body.access_token!;
        assert.ok(adminToken, JSON.stringify(t.body));
      },
      { timeout: 90_000 },
    );
    after(async () => {
      await server?.close();
    });

    /** A context whose app redirects are answered locally (nothing else runs there), so no page hangs on them. */
    async function newContext(): Promise<BrowserContext> {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      context.setDefaultTimeout(20_000);
      context.setDefaultNavigationTimeout(20_000);
      await context.route(
        (u) => u.href.startsWith(redirectUri()) || u.href.startsWith(MSAL_REDIRECT),
        (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'redirect observed' }),
      );
      return context;
    }

    /** An authorization request of the demo web app (code + PKCE) and how to redeem its code. */
    async function webAuthorization(extra: Record<string, string> = {}, scope = 'openid profile') {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(web, { redirect_uri: redirectUri(), scope, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, ...extra });
      return { url: url.href, redeem: (cb: URL) => client.authorizationCodeGrant(web, cb, { pkceCodeVerifier: verifier, expectedState: state }) };
    }

    async function withPage<T>(context: BrowserContext, fn: (page: Page) => Promise<T>): Promise<T> {
      const page = await context.newPage();
      try {
        return await fn(page);
      } finally {
        await closeQuietly(page);
      }
    }

    /** (a)/(b): a browser session made by a web-app sign-in with Stay signed in = Yes or No. */
    async function browserSession(context: BrowserContext, upn: string, password: string, kmsi: boolean): Promise<void> {
      const auth = await webAuthorization();
      const cb = await withPage(context, (page) =>
        captureRedirect(page, redirectUri(), async () => {
          await page.goto(auth.url);
          await signIn(page, upn, password, { kmsi });
        }),
      );
      assert.ok(cb.searchParams.get('code'), `sign-in (kmsi=${kmsi}) returned a code: ${cb.href}`);
    }

    /** (c): MSAL public client, auth code with the sign-in in Chromium, then acquireTokenByCode. */
    async function msalCredential(context: BrowserContext, upn: string, password: string): Promise<{ pca: PublicClientApplication; account: AccountInfo }> {
      const pca = new PublicClientApplication({ auth: { ...authority(), clientId: DEMO.nativeAppId }, system: quiet });
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const scopes = ['User.Read'];
      const url = await pca.getAuthCodeUrl({ scopes, redirectUri: MSAL_REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256', prompt: 'select_account', loginHint: upn });
      const cb = await withPage(context, (page) =>
        captureRedirect(page, MSAL_REDIRECT, async () => {
          await page.goto(url);
          await signIn(page, upn, password, { kmsi: true });
        }),
      );
      const code = cb.searchParams.get('code');
      assert.ok(code, `MSAL redirect carried a code: ${cb.href}`);
      const r = await pca.acquireTokenByCode({ code, scopes, redirectUri: MSAL_REDIRECT, codeVerifier: verifier });
      assert.ok(r.account, 'MSAL has an account');
      return { pca, account: r.account };
    }

    /** (d): openid-client confidential web app, code flow in Chromium, a refresh token. */
    async function webRefreshToken(context: BrowserContext, upn: string, password: string): Promise<string> {
      const auth = await webAuthorization({}, `openid profile offline_access ${DEMO.apiIdentifier}/read`);
      const cb = await withPage(context, (page) =>
        captureRedirect(page, redirectUri(), async () => {
          await page.goto(auth.url);
          await signIn(page, upn, password, { kmsi: true });
        }),
      );
      const tokens = await auth.redeem(cb);
      assert.ok(tokens.refresh_token, 'the web app got a refresh token');
      return tokens.refresh_token;
    }

    interface Observation {
      cell: Cell;
      /** for a dead credential: what the client saw */
      detail?: string;
      aadsts?: number;
    }

    /** prompt=none in that browser: alive gives a code (redeemed), dead gives login_required. */
    async function probeSession(context: BrowserContext): Promise<Observation> {
      const auth = await webAuthorization({ prompt: 'none' });
      const cb = await withPage(context, (page) =>
        captureRedirect(page, redirectUri(), async () => {
          await page.goto(auth.url).catch(() => {});
        }),
      );
      if (cb.searchParams.get('code')) {
        const tokens = await auth.redeem(cb);
        assert.ok(tokens.id_token, 'a prompt=none code is redeemable');
        return { cell: 'alive' };
      }
      const error = cb.searchParams.get('error');
      const description = cb.searchParams.get('error_description') ?? '';
      assert.equal(error, 'login_required', `prompt=none refused with login_required: ${cb.href}`);
      assert.match(description, /^AADSTS50058:/, 'prompt=none without a usable session is AADSTS50058 (D9)');
      return { cell: 'dead', detail: `${error}: ${description.slice(0, 60)}`, aadsts: 50058 };
    }

    /** MSAL silent refresh: alive gives a fresh token; dead must be InteractionRequiredAuthError (never ServerError). */
    async function probeMsal(m: { pca: PublicClientApplication; account: AccountInfo }): Promise<Observation> {
      try {
        const r = await m.pca.acquireTokenSilent({ account: m.account, scopes: ['User.Read'], forceRefresh: true });
        assert.ok(r.accessToken);
        assert.equal(r.fromCache, false, 'forceRefresh went to the token endpoint');
        return { cell: 'alive' };
      } catch (e) {
        const err = e as InteractionRequiredAuthError & { constructor: { name: string } };
        assert.ok(e instanceof InteractionRequiredAuthError, `MSAL must raise InteractionRequiredAuthError, got ${err.constructor?.name} ${err.errorCode} ${err.subError} ${err.errorMessage ?? String(e)}`);
        assert.equal(err.errorCode, 'invalid_grant', err.errorMessage);
        assert.equal(err.subError, 'bad_token', err.errorMessage);
        const aadsts = Number(/^AADSTS(\d+):/.exec(err.errorMessage)?.[1]);
        assert.equal(Number(err.errorNo), aadsts, `error_codes[0] matches the description: ${err.errorNo} vs ${err.errorMessage}`);
        return { cell: 'dead', detail: `${err.errorCode}/${err.subError}: ${err.errorMessage.slice(0, 60)}`, aadsts };
      }
    }

    /** openid-client refresh: alive gives tokens; dead is invalid_grant, AADSTSnnnnn:, suberror bad_token. */
    async function probeWeb(refreshToken: string): Promise<Observation> {
      try {
        const r = await client.refreshTokenGrant(web, refreshToken);
        assert.ok(r.access_token);
        assert.equal(r.refresh_token, refreshToken, 'a confidential client keeps its refresh token (D2)');
        return { cell: 'alive' };
      } catch (e) {
        assert.ok(e instanceof client.ResponseBodyError, `openid-client saw an OAuth error response: ${String(e)}`);
        assert.equal(e.error, 'invalid_grant', e.error_description);
        const body = e.cause as { suberror?: string; error_codes?: number[] };
        assert.equal(body.suberror, 'bad_token', e.error_description);
        const aadsts = Number(/^AADSTS(\d+):/.exec(e.error_description ?? '')?.[1]);
        assert.deepEqual(body.error_codes, [aadsts], `error_codes match the description: ${e.error_description}`);
        return { cell: 'dead', detail: `${e.error}/${body.suberror}: ${(e.error_description ?? '').slice(0, 60)}`, aadsts };
      }
    }

    interface Held {
      contexts: { a: BrowserContext; b: BrowserContext; c: BrowserContext; d: BrowserContext };
      msal: { pca: PublicClientApplication; account: AccountInfo };
      webRt: string;
    }

    /** Refresh tokens first, browser sessions after, so that no probe can be the cause of another's result. */
    async function observe(h: Held): Promise<Record<Credential, Observation>> {
      const msalNativeRefresh = await probeMsal(h.msal);
      const webAppRefresh = await probeWeb(h.webRt);
      const browserStaySignedInYes = await probeSession(h.contexts.a);
      const browserStaySignedInNo = await probeSession(h.contexts.b);
      return { browserStaySignedInYes, browserStaySignedInNo, msalNativeRefresh, webAppRefresh };
    }

    const cellsOf = (o: Record<Credential, Observation>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.cell])) as Record<Credential, Cell>;

    async function stamps(userId: string): Promise<{ signInSessionsValidFromDateTime: string; lastPasswordChangeDateTime: string }> {
      const res = await g(`/users/${userId}?$select=signInSessionsValidFromDateTime,lastPasswordChangeDateTime`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { signInSessionsValidFromDateTime: string; lastPasswordChangeDateTime: string };
      assert.match(body.signInSessionsValidFromDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(body.lastPasswordChangeDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      return body;
    }

    async function profile(userId: string): Promise<{ accountEnabled: boolean; passwordProfile: { forceChangePasswordNextSignIn: boolean } }> {
      const res = await g(`/users/${userId}?$select=accountEnabled,passwordProfile`);
      assert.equal(res.status, 200);
      return (await res.json()) as { accountEnabled: boolean; passwordProfile: { forceChangePasswordNextSignIn: boolean } };
    }

    /** A brand-new interactive sign-in in a fresh browser: how far it gets. */
    async function freshSignIn(upn: string, password: string): Promise<NextSignIn | string> {
      const context = await newContext();
      try {
        const auth = await webAuthorization();
        return await withPage(context, async (page) => {
          await page.goto(auth.url);
          await page.waitForSelector('#i0116');
          await page.fill('#i0116', upn);
          await page.click('#idSIButton9');
          await page.waitForSelector('#i0118');
          await page.fill('#i0118', password);
          await page.click('#idSIButton9');
          await page.waitForSelector('#newPassword, #passwordError, button[name=kmsi]');
          if (await page.isVisible('#newPassword')) return 'forced password change';
          if (await page.isVisible('#passwordError')) {
            const text = (await page.textContent('#passwordError')) ?? '';
            return /AADSTS50057/.test(text) ? 'refused AADSTS50057' : `error: ${text}`;
          }
          const cb = await captureRedirect(page, redirectUri(), () => page.click('#idSIButton9'));
          if (!cb.searchParams.get('code')) return `no code: ${cb.href}`;
          const tokens = await auth.redeem(cb);
          return tokens.id_token ? 'code' : 'code not redeemable';
        });
      } finally {
        await dispose(context);
      }
    }

    /** Each action applied through Graph; returns the user's new password when the action sets one. */
    const ACTIONS: { name: ActionName; apply: (userId: string) => Promise<{ password?: string }> }[] = [
      {
        name: 'reset password (generated)',
        apply: async (userId) => {
          const res = await g(`/users/${userId}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, { method: 'POST', token: adminToken });
          assert.equal(res.status, 202, await res.clone().text());
          const generated = ((await res.json()) as { newPassword: string }).newPassword;
          assert.ok(generated && generated.length >= 12, 'a generated password is shown once');
          const p = await profile(userId);
          assert.equal(p.passwordProfile.forceChangePasswordNextSignIn, true, 'a generated password must be changed at next sign-in');
          return { password: generated };
        },
      },
      {
        name: 'reset password (admin-chosen, no forced change)',
        apply: async (userId) => {
          const password = 'Admin-Chosen-Passw0rd-42';
          const res = await g(`/users/${userId}`, { method: 'PATCH', body: JSON.stringify({ passwordProfile: { password, forceChangePasswordNextSignIn: false } }) });
          assert.equal(res.status, 204, await res.text());
          const p = await profile(userId);
          assert.equal(p.passwordProfile.forceChangePasswordNextSignIn, false);
          return { password };
        },
      },
      {
        name: 'revoke sessions',
        apply: async (userId) => {
          const res = await g(`/users/${userId}/revokeSignInSessions`, { method: 'POST' });
          assert.equal(res.status, 200, await res.clone().text());
          assert.equal(((await res.json()) as { value: boolean }).value, true);
          return {};
        },
      },
      {
        name: 'disable',
        apply: async (userId) => {
          const res = await g(`/users/${userId}`, { method: 'PATCH', body: JSON.stringify({ accountEnabled: false }) });
          assert.equal(res.status, 204, await res.text());
          assert.equal((await profile(userId)).accountEnabled, false);
          return {};
        },
      },
      {
        name: 'enable after disable',
        apply: async (userId) => {
          const off = await g(`/users/${userId}`, { method: 'PATCH', body: JSON.stringify({ accountEnabled: false }) });
          assert.equal(off.status, 204, await off.text());
          const on = await g(`/users/${userId}`, { method: 'PATCH', body: JSON.stringify({ accountEnabled: true }) });
          assert.equal(on.status, 204, await on.text());
          assert.equal((await profile(userId)).accountEnabled, true);
          return {};
        },
      },
    ];

    for (const action of ACTIONS) {
      test(`${action.name}: sessions and refresh tokens per spec §5`, { timeout: 150_000 }, async (t) => {
        const started = Date.now();
        const initialPassword = 'Matrix-Initial-Passw0rd-7';
        const name = `rm${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
        const user = await createUser(server.store.db, { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password: initialPassword });
        const opened: BrowserContext[] = [];
        try {
          const [a, b, c, d] = await Promise.all([newContext(), newContext(), newContext(), newContext()]);
          opened.push(a!, b!, c!, d!);
          // the four credentials, made in parallel, each in its own browser context
          const [, , msal, webRt] = await Promise.all([
            browserSession(a!, user.upn, initialPassword, true),
            browserSession(b!, user.upn, initialPassword, false),
            msalCredential(c!, user.upn, initialPassword),
            webRefreshToken(d!, user.upn, initialPassword),
          ]);
          const held: Held = { contexts: { a: a!, b: b!, c: c!, d: d! }, msal, webRt };

          // all alive before the action: a "dead" below is the action's doing, not the probe's
          const baseline = await observe(held);
          assert.deepEqual(cellsOf(baseline), ALL_ALIVE, `baseline before ${action.name}: ${JSON.stringify(baseline)}`);

          const stampsBefore = await stamps(user.id);
          const appliedFrom = Date.now();
          const { password: newPassword } = await action.apply(user.id);
          const stampsAfter = await stamps(user.id);

          const seen = await observe(held);
          const expected = EXPECTED[action.name];
          t.diagnostic(`${action.name} (${dbKind}): ${JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, v.cell + (v.aadsts ? ` AADSTS${v.aadsts}` : '')])))}`);
          assert.deepEqual(cellsOf(seen), expected.cells, `after ${action.name}: ${JSON.stringify(seen)}`);
          for (const k of ['msalNativeRefresh', 'webAppRefresh'] as const) {
            if (expected.cells[k] === 'dead') assert.equal(seen[k].aadsts, expected.refreshRefusal, `${k} after ${action.name}: ${seen[k].detail}`);
          }

          // Graph-visible stamps (second resolution on the wire): which moved, and to the time of the action
          for (const k of ['signInSessionsValidFromDateTime', 'lastPasswordChangeDateTime'] as const) {
            if (expected.stamps[k] === 'unchanged') {
              assert.equal(stampsAfter[k], stampsBefore[k], `${k} must not move for ${action.name} (D6)`);
            } else {
              assert.ok(Date.parse(stampsAfter[k]) > Date.parse(stampsBefore[k]), `${k} must move for ${action.name}: ${stampsBefore[k]} -> ${stampsAfter[k]}`);
              assert.ok(Date.parse(stampsAfter[k]) >= Math.floor(appliedFrom / 1000) * 1000, `${k} is the time of the action: ${stampsAfter[k]}`);
            }
          }

          // next sign-in (spec §5 last column): a fresh browser, with the password the user now has
          const password = newPassword ?? initialPassword;
          assert.equal(await freshSignIn(user.upn, password), expected.nextSignIn, `next sign-in after ${action.name}`);
          t.diagnostic(`${action.name} (${dbKind}) took ${Date.now() - started} ms`);
        } finally {
          await Promise.all(opened.map(dispose));
        }
      });
    }
  });
}
