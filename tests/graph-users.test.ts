// The Graph-compatible /users API over HTTP with Latchkey-issued tokens: list with $filter/$select/$top
// and paging, get by id or UPN, create, update, revokeSignInSessions, resetPassword (delegated only),
// PATCH passwordProfile (app with a directory role), delete; Graph's error shape; audit records.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { appGraphToken, consentNativeAppToGraph, delegatedGraphToken, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';


for (const dbKind of await databases()) {
  describe(`Graph /users (${dbKind})`, () => {
    let server: TestServer;
    let appToken: string;
    let adminToken: string;
    const g = (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${init.token ?? appToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) } });

    before(async () => {
      server = await startTestServer(dbKind);
      appToken = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
      // a delegated token for the Global Administrator through the demo native app (Directory.AccessAsUser.All)
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    test('list users with $select, $filter and $top, following @odata.nextLink', async () => {
      const res = await g(`/users?$select=id,userPrincipalName,accountEnabled&$filter=${encodeURIComponent("startsWith(userPrincipalName,'a') or userPrincipalName eq 'bob@contoso.test'")}&$top=2`);
      assert.equal(res.status, 200);
      const page1 = (await res.json()) as { value: { userPrincipalName: string; accountEnabled: boolean; displayName?: string }[]; '@odata.nextLink'?: string };
      assert.equal(page1.value.length, 2);
      assert.equal(page1.value[0]!.displayName, undefined, '$select limits the properties');
      assert.ok(page1['@odata.nextLink']);
      const page2 = (await (await g(page1['@odata.nextLink']!.replace(`${server.origin}/v1.0`, ''))).json()) as { value: { userPrincipalName: string }[]; '@odata.nextLink'?: string };
      const all = [...page1.value, ...page2.value].map((u) => u.userPrincipalName).sort();
      assert.deepEqual(all, ['admin@contoso.test', 'alice@contoso.test', 'bob@contoso.test']);
      assert.equal(page2['@odata.nextLink'], undefined);
    });

    test('a filter on an unsupported property or operator is a Graph 400', async () => {
      for (const f of ["jobTitle eq 'x'", "accountEnabled eq 'yes'", 'displayName eq', "endsWith(mail,'x')"]) {
        const res = await g(`/users?$filter=${encodeURIComponent(f)}`);
        assert.equal(res.status, 400, f);
        const body = (await res.json()) as { error: { code: string; message: string; innerError: { 'request-id': string } } };
        assert.ok(['BadRequest', 'Request_UnsupportedQuery'].includes(body.error.code), f);
        assert.ok(body.error.innerError['request-id']);
      }
    });

    test('get by id and by UPN; an unknown id is Request_ResourceNotFound', async () => {
      const alice = (await (await g(`/users/alice@${server.tenantDomain}`)).json()) as { id: string; displayName: string };
      assert.equal(alice.displayName, 'Alice Example');
      const byId = (await (await g(`/users/${alice.id}?$select=signInSessionsValidFromDateTime,lastPasswordChangeDateTime`)).json()) as Record<string, string>;
      assert.match(byId.signInSessionsValidFromDateTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const missing = await g('/users/00000000-0000-0000-0000-000000000000');
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'Request_ResourceNotFound');
    });

    test('/me with a delegated token; /me with an app token is refused', async () => {
      const me = (await (await g('/me', { token: adminToken })).json()) as { userPrincipalName: string };
      assert.equal(me.userPrincipalName, `admin@${server.tenantDomain}`);
      assert.equal((await g('/me')).status, 400);
    });

    test('revokeSignInSessions answers 200 {value:true}, moves the stamp and writes the audit record', async () => {
      const before = (await (await g(`/users/bob@${server.tenantDomain}?$select=signInSessionsValidFromDateTime`)).json()) as { signInSessionsValidFromDateTime: string };
      const res = await g(`/users/bob@${server.tenantDomain}/revokeSignInSessions`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { value: boolean }).value, true);
      const after = (await (await g(`/users/bob@${server.tenantDomain}?$select=signInSessionsValidFromDateTime`)).json()) as { signInSessionsValidFromDateTime: string };
      assert.ok(Date.parse(after.signInSessionsValidFromDateTime) >= Date.parse(before.signInSessionsValidFromDateTime));
      const audit = await server.store.db.selectFrom('audit_log').selectAll().where('activity', '=', 'Update StsRefreshTokenValidFrom Timestamp').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor_id, DEMO.automationAppId);
      assert.equal(audit[0]!.target_name, `bob@${server.tenantDomain}`);
      const outbox = await server.store.db.selectFrom('outbox').selectAll().where('type', '=', 'user.sessions.revoked').execute();
      assert.equal(outbox.length, 1, 'the event is in the outbox, written with the change');
    });

    test('resetPassword is delegated only: 202 with Location for an admin, 403 for an app', async () => {
      const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${server.tenantDomain}`))!;
      const path = `/users/${carol.id}/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword`;
      const refused = await g(path, { method: 'POST', body: JSON.stringify({ newPassword: 'Another-Good-Pass-9' }) });
      assert.equal(refused.status, 403);
      const unchanged = await findUserByUpn(server.store.db, server.tenantId, `carol@${server.tenantDomain}`);
      assert.equal(unchanged!.password_hash, carol.password_hash, 'the refusal changed nothing');
      const res = await g(path, { method: 'POST', token: adminToken });
      assert.equal(res.status, 202);
      const location = res.headers.get('location')!;
      assert.match(location, /\/authentication\/operations\//);
      const generated = ((await res.json()) as { newPassword: string }).newPassword;
      assert.ok(generated.length >= 12);
      const op = (await (await fetch(location, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { status: string };
      assert.equal(op.status, 'succeeded', 'committed before the 202 (D17)');
      const reset = (await findUserByUpn(server.store.db, server.tenantId, `carol@${server.tenantDomain}`))!;
      assert.equal(reset.force_change_password, 1);
      assert.ok(reset.admin_reset_at !== null);
      const audit = await server.store.db.selectFrom('audit_log').selectAll().where('activity', '=', 'Reset password (by admin)').execute();
      assert.equal(audit.length, 1);
    });

    test('PATCH passwordProfile by an app needs a directory role covering the target (D7)', async () => {
      const body = JSON.stringify({ passwordProfile: { password: 'Patched-Password-77', forceChangePasswordNextSignIn: false } });
      const refused = await g(`/users/alice@${server.tenantDomain}`, { method: 'PATCH', body });
      assert.equal(refused.status, 403);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /directory role/);
      await server.store.db.insertInto('app_directory_roles').values({ app_id: DEMO.automationAppId, role: 'User Administrator' }).execute();
      const ok = await g(`/users/alice@${server.tenantDomain}`, { method: 'PATCH', body });
      assert.equal(ok.status, 204);
      const admin = await g(`/users/admin@${server.tenantDomain}`, { method: 'PATCH', body });
      assert.equal(admin.status, 403, 'a User Administrator cannot act on a Global Administrator');
    });

    test('create, update and delete a user', async () => {
      const created = await g('/users', { method: 'POST', token: adminToken, body: JSON.stringify({ accountEnabled: true, displayName: 'Frank', mailNickname: 'frank', userPrincipalName: `frank@${server.tenantDomain}`, passwordProfile: { password: 'Sturdy-Password-11', forceChangePasswordNextSignIn: true } }) });
      assert.equal(created.status, 201);
      const frank = (await created.json()) as { id: string };
      const dup = await g('/users', { method: 'POST', token: adminToken, body: JSON.stringify({ accountEnabled: true, displayName: 'Frank', mailNickname: 'frank', userPrincipalName: `FRANK@${server.tenantDomain}`, passwordProfile: { password: 'Sturdy-Password-11' } }) });
      assert.equal(dup.status, 400);
      assert.equal(((await dup.json()) as { error: { code: string } }).error.code, 'Request_MultipleObjectsWithSameKeyValue');
      assert.equal((await g(`/users/${frank.id}`, { method: 'PATCH', token: adminToken, body: JSON.stringify({ displayName: 'Frank Renamed', accountEnabled: false }) })).status, 204);
      const after = (await (await g(`/users/${frank.id}?$select=displayName,accountEnabled`)).json()) as { displayName: string; accountEnabled: boolean };
      assert.deepEqual([after.displayName, after.accountEnabled], ['Frank Renamed', false]);
      assert.equal((await g(`/users/${frank.id}`, { method: 'DELETE', token: adminToken })).status, 204);
      assert.equal((await g(`/users/${frank.id}`)).status, 404);
      const acts = (await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', frank.id).orderBy('id').execute()).map((r) => r.activity);
      assert.deepEqual(acts, ['Add user', 'Disable account', 'Update user', 'Delete user']);
    });

    test('two concurrent creates of the same user: one 201, the other a Graph 400 conflict, never a 500', async () => {
      const body = JSON.stringify({ accountEnabled: true, displayName: 'Gina', mailNickname: 'gina', userPrincipalName: `gina@${server.tenantDomain}`, passwordProfile: { password: 'Sturdy-Password-12' } });
      const results = await Promise.all([1, 2, 3].map(() => g('/users', { method: 'POST', token: adminToken, body })));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 400, 400]);
      const audits = await server.store.db.selectFrom('audit_log').selectAll().where('activity', '=', 'Add user').where('target_name', '=', `gina@${server.tenantDomain}`).execute();
      assert.equal(audits.length, 1, 'one user, one audit record');
    });

    test('bad bodies are Graph 400s and change nothing', async () => {
      const alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`))!;
      for (const [body, type] of [['{not json', 'application/json'], ['[]', 'application/json'], [JSON.stringify({ surname: 'x' }), 'application/json'], [JSON.stringify({ accountEnabled: 'no' }), 'application/json'], ['displayName=x', 'application/x-www-form-urlencoded']] as const) {
        const res = await fetch(`${server.origin}/v1.0/users/${alice.id}`, { method: 'PATCH', body, headers: { authorization: `Bearer ${adminToken}`, 'content-type': type } });
        assert.ok(res.status === 400 || res.status === 415, `${body}: ${res.status}`);
        const err = (await res.json()) as { error?: { code: string } };
        assert.ok(err.error?.code, `${body}: Graph error shape`);
      }
      const same = await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`);
      assert.deepEqual(same, { ...alice, password_hash: same!.password_hash, last_password_change_at: same!.last_password_change_at, admin_reset_at: same!.admin_reset_at, force_change_password: same!.force_change_password });
    });

    test('mail must be an SMTP address (400 naming it, nothing changed); null clears it; a given mailNickname must not be blank', async () => {
      const BAD_MAIL = ['<script>alert(1)</script>', '', ' ', 'not an email', '\u202e', '\ufeff', 'NaN', 'a@b', 'a@@b.test', 'a@b@c.test', '@contoso.test', 'a b@contoso.test', 'a\u202e@contoso.test', 'alice@contoso.test\ufeff', 'a@-x.test', 'a@x..test', '"a"@contoso.test', `a@${'x'.repeat(250)}.test`];
      const error = async (res: Response) => [res.status, ((await res.json()) as { error?: { code: string; message: string } }).error] as const;
      const path = `/users/bob@${server.tenantDomain}`;
      const read = async () => (await (await g(`${path}?$select=id,mail,displayName`)).json()) as Record<string, unknown>;
      assert.equal((await g(path, { method: 'PATCH', token: adminToken, body: JSON.stringify({ mail: `bob.mail@${server.tenantDomain}` }) })).status, 204);
      const before = await read();
      assert.equal(before.mail, `bob.mail@${server.tenantDomain}`);
      const users = async () => (await server.store.db.selectFrom('users').select('upn').execute()).map((u) => u.upn).sort();
      const allUsers = await users();
      const audits = (await server.store.db.selectFrom('audit_log').select('id').execute()).length;
      for (const mail of [...BAD_MAIL, 42]) {
        const [status, e] = await error(await g(path, { method: 'PATCH', token: adminToken, body: JSON.stringify({ mail, displayName: 'Not Renamed' }) }));
        assert.deepEqual([status, e?.code, e?.message], [400, 'Request_BadRequest', typeof mail === 'number' ? "Property 'mail' must be a string." : "Invalid value specified for property 'mail' of resource 'User'."], JSON.stringify(mail));
        const [cStatus, cError] = await error(await g('/users', { method: 'POST', token: adminToken, body: JSON.stringify({ accountEnabled: true, displayName: 'Mallory', mailNickname: 'mallory', userPrincipalName: `mallory@${server.tenantDomain}`, mail, passwordProfile: { password: 'Sturdy-Password-11' } }) }));
        assert.deepEqual([cStatus, cError?.code, cError?.message], [400, 'Request_BadRequest', typeof mail === 'number' ? "Property 'mail' must be a string." : "Invalid value specified for property 'mail' of resource 'User'."], JSON.stringify(mail));
      }
      for (const [mailNickname, message] of [['', "Property 'mailNickname' must not be empty."], ['   ', "Property 'mailNickname' must not be empty."], ['n'.repeat(65), "Property 'mailNickname' is too long or contains a character that is not allowed."]]) {
        const [status, e] = await error(await g('/users', { method: 'POST', token: adminToken, body: JSON.stringify({ accountEnabled: true, displayName: 'Mallory', mailNickname, userPrincipalName: `mallory@${server.tenantDomain}`, passwordProfile: { password: 'Sturdy-Password-11' } }) }));
        assert.deepEqual([status, e?.code, e?.message], [400, 'Request_BadRequest', message], JSON.stringify(mailNickname));
      }
      assert.deepEqual(await read(), before, 'the refused PATCHes changed nothing');
      assert.deepEqual(await users(), allUsers, 'the refused POSTs created no user');
      assert.equal((await server.store.db.selectFrom('audit_log').select('id').execute()).length, audits, 'nor any audit record');
      // an address with an internationalized domain is one; null clears the address; mailNickname is optional
      assert.equal((await g(path, { method: 'PATCH', token: adminToken, body: JSON.stringify({ mail: 'bob@bücher.example' }) })).status, 204);
      assert.equal((await read()).mail, 'bob@bücher.example');
      assert.equal((await g(path, { method: 'PATCH', token: adminToken, body: JSON.stringify({ mail: null }) })).status, 204);
      assert.equal((await read()).mail, null);
      const made = await g('/users', { method: 'POST', token: adminToken, body: JSON.stringify({ accountEnabled: true, displayName: 'Hana', userPrincipalName: `hana@${server.tenantDomain}`, mail: `hana.k@${server.tenantDomain}`, passwordProfile: { password: 'Sturdy-Password-11' } }) });
      assert.equal(made.status, 201);
      assert.equal(((await made.json()) as { mail: string }).mail, `hana.k@${server.tenantDomain}`);
    });

    test('a single user takes $select only: other query options are refused, naming them (also on /me)', async () => {
      const alice = `/users/alice@${server.tenantDomain}`;
      for (const [path, token] of [[alice, appToken], ['/me', adminToken]] as const) {
        for (const [query, option] of [['$filter=(', '$filter'], ['$top=abc', '$top'], ['$foo=1', '$foo'], ['$skiptoken=abc', '$skiptoken'], ['$orderby=nope', '$orderby'], ['$search=a', '$search'], ['$count=true', '$count'], ['$expand=manager', '$expand']] as const) {
          const res = await g(`${path}?${query}`, { token });
          const e = ((await res.json()) as { error?: { code: string; message: string } }).error;
          assert.deepEqual([res.status, e?.code, e?.message], [400, 'Request_UnsupportedQuery', `Query option '${option}' is not supported on a user.`], `${path}?${query}`);
        }
        const twice = await g(`${path}?$select=id&$select=mail`, { token });
        assert.deepEqual([twice.status, ((await twice.json()) as { error?: { message: string } }).error?.message], [400, "Query option '$select' was given more than once."]);
        const selected = (await (await g(`${path}?$select=displayName`, { token })).json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(selected).sort(), ['@odata.context', 'displayName']);
      }
    });

    test('no token, a garbage token or a token for another resource is 401 InvalidAuthenticationToken', async () => {
      const api = await token(server, { grant_type: 'client_credentials', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', scope: 'api://demo-api/.default' });
      for (const t of ['', 'garbage', api.body.access_token!]) {
        const res = await fetch(`${server.origin}/v1.0/users`, { headers: t ? { authorization: `Bearer ${t}` } : {} });
        assert.equal(res.status, 401);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
      }
    });
  });
}
