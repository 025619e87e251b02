// The hot paths' SQL statements, counted exactly (speed is measured by `npm run bench`; what can be counted
// is held here, so that a regression fails the suite): a password sign-in through the pages, step by step
// (with and without an authenticator app code),
// the code exchange, and a refresh; on SQLite and PostgreSQL (the same code runs the same statements).
// The expected numbers are written out; a change that adds a statement must change them on purpose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO } from '../src/directory/seed.js';
import { observeStatements } from '../src/storage/db.js';
import { currentScope } from '../src/storage/scope.js';
import { Jar, pkce, token, signinFormAction } from './helpers/http-signin.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { createUser } from '../src/directory/users.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'http://localhost';

/**
 * Runs `fn` and returns the statements its requests ran meanwhile, with their text: not the outbox
 * deliverer's poll (its own timer, whatever the requests do), nor a cache's load (once per entry and 5 s: a
 * slow run crossing a 5-second mark would count a reload; that the caches hold their entries is
 * tests/work-aside.test.ts's, and a read that skips its cache is the request's own and counted here).
 */
async function statementsOf<T>(fn: () => Promise<T>): Promise<{ value: T; statements: string[] }> {
  const statements: string[] = [];
  observeStatements((sql) => {
    if (currentScope()?.aside === undefined) statements.push(sql);
  });
  try {
    return { value: await fn(), statements };
  } finally {
    observeStatements(undefined);
  }
}

/** `select users where id`: enough of a statement to read a failure. */
const shape = (sql: string) => {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '?';
  const table = /\b(?:from|into|update)\s+"(\w+)"/i.exec(sql)?.[1] ?? '?';
  const where = /\bwhere\b(.*)$/is.exec(sql)?.[1] ?? '';
  const cols = [...where.matchAll(/"(\w+)"\s*(?:=|<=|>=|<|>|is|in)/gi)].map((m) => m[1]);
  return `${verb} ${table}${cols.length ? ` where ${cols.join(', ')}` : ''}`;
};

for (const dbKind of await databases()) {
  describe(`statement counts (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    async function signInSteps(upn: string, mfaCode?: () => string) {
      const jar = new Jar();
      const { verifier, challenge } = pkce();
      const steps: { name: string; statements: string[] }[] = [];
      const send = async (name: string, url: URL, form?: Record<string, string>) => {
        const { value: res, statements } = await statementsOf(async () => {
          const r = await fetch(url, form ? { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form), redirect: 'manual' } : { headers: { cookie: jar.header() }, redirect: 'manual' });
          jar.take(r);
          return { status: r.status, location: r.headers.get('location'), html: await r.text() };
        });
        steps.push({ name, statements });
        return res;
      };
      const params = new URLSearchParams({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256', state: 's1' });
      // a browser without a session: authorize answers with the user-name page itself
      let r = await send('authorize', new URL(`${server.tenantUrl}/oauth2/v2.0/authorize?${params}`));
      assert.equal(r.status, 200, `authorize: ${r.status} ${r.html.slice(0, 200)}`);
      const signin = signinFormAction(r.html, server.origin)!;
      const fills: [string, () => Record<string, string>][] = [
        ['user name', () => ({ loginfmt: upn })],
        ['password', () => ({ passwd: DEMO.demoPassword })],
        ...(mfaCode ? [['second factor', () => ({ method: 'softwareOath', code: mfaCode() })] as [string, () => Record<string, string>]] : []),
        ['stay signed in', () => ({ kmsi: 'yes' })],
      ];
      for (const [name, fill] of fills) {
        const csrf = /name="csrf" value="([^"]+)"/.exec(r.html)?.[1];
        const step = /name="step" value="([^"]+)"/.exec(r.html)?.[1];
        assert.ok(csrf && step, `${name}: a sign-in form (${r.status} ${r.html.slice(0, 200)})`);
        r = await send(name, signin, { csrf, step, ...fill() });
        if (r.status === 303 && new URL(r.location!, server.origin).pathname.startsWith('/signin/')) r = await send(`${name} (next page)`, new URL(r.location!, server.origin));
      }
      // the last post sends the browser straight to the app (no resume at the engine)
      assert.ok(r.location?.startsWith(REDIRECT), `back to the app: ${r.status} ${r.location}`);
      const code = new URL(r.location!).searchParams.get('code')!;
      return { steps, code, verifier };
    }

    const listing = (name: string, statements: string[]) => `${name}: ${statements.length}\n${statements.map((q) => `    ${shape(q)}`).join('\n')}`;

    /** A sign-in, its code exchange and two refreshes, with the statements of each request. */
    async function signInAndRefresh(upn: string, mfaCode?: () => string) {
      const { steps, code, verifier } = await signInSteps(upn, mfaCode);
      const exchange = await statementsOf(() => token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code, redirect_uri: REDIRECT, code_verifier: verifier }));
      assert.equal(exchange.value.status, 200);
      const scope = 'openid offline_access User.Read';
      const first = await statementsOf(() => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: String(exchange.value.body.refresh_token), scope }));
      assert.equal(first.value.status, 200);
      const second = await statementsOf(() => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: String(first.value.body.refresh_token), scope }));
      assert.equal(second.value.status, 200);
      return { steps, exchange: exchange.statements, first: first.statements, second: second.statements };
    }

    test('a password sign-in, its code exchange and a refresh', async () => {
      const upn = `alice@${server.tenantDomain}`;
      // warm: first-use work (the familiar location's first success, the directory cache) is not counted
      await signInAndRefresh(upn);
      const { steps, exchange, first, second } = await signInAndRefresh(upn);
      const report = steps.map((s) => listing(s.name, s.statements)).join('\n');
      // a sign-in from a familiar place, no lockout counter, no MFA required. On PostgreSQL, every request
      // through the engine that reads the client view reads the directory version once (several
      // instances share the database: src/directory/version.ts); SQLite reads none. The password step asks
      // whether the app requires MFA through the same cache: none on SQLite, the version on PostgreSQL; so
      // does the last step, which makes the session, grant and code itself (a browser without a session).
      // That step writes them, its browser-session record and the sign-in log together: on SQLite in one
      // transaction (its BEGIN and COMMIT counted), on PostgreSQL one by one (no round trips added).
      const expected =
        dbKind === 'sqlite'
          ? { steps: { authorize: 1, 'user name': 2, password: 4, 'stay signed in': 10 }, total: 17, exchange: 6, first: 6, second: 5 }
          : { steps: { authorize: 2, 'user name': 2, password: 5, 'stay signed in': 9 }, total: 18, exchange: 7, first: 7, second: 6 };
      assert.deepEqual(Object.fromEntries(steps.map((s) => [s.name, s.statements.length])), expected.steps, report);
      assert.equal(steps.reduce((n, s) => n + s.statements.length, 0), expected.total, report);
      assert.equal(exchange.length, expected.exchange, listing('code exchange', exchange));
      // the grant's first refresh this hour writes its non-interactive sign-in (D11); the next does not
      assert.equal(first.length, expected.first, listing('first refresh', first));
      assert.equal(second.length, expected.second, listing('refresh', second));
    });

    test('the second factor of an MFA sign-in (an authenticator app code): its step reads the method and writes its use', async () => {
      const user = await createUser(server.store.db, { tenantId: server.tenantId, upn: `counted-mfa@${server.tenantDomain}`, displayName: 'counted', password: DEMO.demoPassword });
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', user.id).execute();
      const secret = await enrollTotp(server, user);
      // a code is taken once: the warm-up uses this time step's, the counted sign-in the next one's (in the ±1 window)
      await signInAndRefresh(user.upn, () => totpAt(secret));
      const { steps } = await signInAndRefresh(user.upn, () => totpAt(secret, Date.now() + PERIOD_S * 1000));
      const report = steps.map((s) => listing(s.name, s.statements)).join('\n');
      assert.deepEqual(
        Object.fromEntries(steps.map((s) => [s.name, s.statements.length])),
        dbKind === 'sqlite'
          ? { authorize: 1, 'user name': 2, password: 4, 'second factor': 2, 'stay signed in': 10 }
          : { authorize: 2, 'user name': 2, password: 5, 'second factor': 2, 'stay signed in': 9 },
        report,
      );
    });
  });
}
