// Rights hold for every part of an update, refusals reveal no state, the tenant keeps a Global
// Administrator, and apply re-checks the actor's rights (a role lost after the preview counts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as disableAccount from '../src/admin/actions/disable-account.js';
import * as revokeSessions from '../src/admin/actions/revoke-sessions.js';
import { ActionError } from '../src/admin/action.js';
import type { Actor } from '../src/admin/actor.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PW = 'Safety-Actor-Password-55';

describe('admin safety', () => {
  let server: TestServer;
  let userAdmin: string;
  let nobody: string;
  const g = (path: string, token: string, init: RequestInit = {}) => fetch(`${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const ctx = () => ({ db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config });

  before(async () => {
    server = await startTestServer('sqlite');
    await consentNativeAppToGraph(server);
    await createUser(server.store.db, { tenantId: server.tenantId, upn: 'ua@contoso.test', displayName: 'User Admin', password: PW, roles: ['User Administrator'] });
    await createUser(server.store.db, { tenantId: server.tenantId, upn: 'plain@contoso.test', displayName: 'Plain', password: PW });
    userAdmin = await delegatedGraphToken(server, 'ua@contoso.test', PW);
    nobody = await delegatedGraphToken(server, 'plain@contoso.test', PW);
  });
  after(async () => {
    await server?.close();
  });

  test('a User Administrator cannot rename a Global Administrator or change their mail', async () => {
    const before = await findUserByUpn(server.store.db, server.tenantId, 'admin@contoso.test');
    const res = await g('/users/admin@contoso.test', userAdmin, { method: 'PATCH', body: JSON.stringify({ displayName: 'pwned', mail: 'attacker@evil.example' }) });
    assert.equal(res.status, 403);
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'admin@contoso.test'), before);
    const ok = await g('/users/alice@contoso.test', userAdmin, { method: 'PATCH', body: JSON.stringify({ displayName: 'Alice Renamed' }) });
    assert.equal(ok.status, 204, 'a plain user may be renamed by a User Administrator');
  });

  test('an accountEnabled that is already so is still authorized: no 204 that reveals the state', async () => {
    await server.store.db.updateTable('users').set({ account_enabled: 0 }).where('upn_lower', '=', 'bob@contoso.test').execute();
    try {
      const res = await g('/users/bob@contoso.test', nobody, { method: 'PATCH', body: JSON.stringify({ accountEnabled: false }) });
      assert.equal(res.status, 403);
    } finally {
      await server.store.db.updateTable('users').set({ account_enabled: 1 }).where('upn_lower', '=', 'bob@contoso.test').execute();
    }
  });

  test('a PATCH whose later part is refused writes none of its parts', async () => {
    const before = await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test');
    // the password is valid, the display name change is refused for this caller: nothing is written
    const res = await g('/users/carol@contoso.test', nobody, { method: 'PATCH', body: JSON.stringify({ passwordProfile: { password: 'Another-Sturdy-Pass-3' }, displayName: 'x' }) });
    assert.equal(res.status, 403);
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test'), before);
    const both = await g('/users/carol@contoso.test', userAdmin, { method: 'PATCH', body: JSON.stringify({ passwordProfile: { password: 'Another-Sturdy-Pass-3', forceChangePasswordNextSignIn: false }, accountEnabled: false, displayName: 'Carol Both' }) });
    assert.equal(both.status, 204);
    const after = (await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test'))!;
    assert.deepEqual([after.account_enabled, after.display_name, after.password_hash !== before!.password_hash], [0, 'Carol Both', true]);
    const acts = (await server.store.db.selectFrom('audit_log').select('activity').where('target_name', '=', 'carol@contoso.test').orderBy('id').execute()).map((r) => r.activity);
    assert.deepEqual(acts, ['Reset password', 'Disable account', 'Update user']);
    await server.store.db.updateTable('users').set({ account_enabled: 1 }).where('id', '=', after.id).execute();
  });

  test('the only enabled Global Administrator cannot be disabled or deleted', async () => {
    const system = { kind: 'system', id: 'system', displayName: 'test' } as const;
    await assert.rejects(disableAccount.plan(ctx(), system, 'admin@contoso.test'), (e: ActionError) => e.code === 'invalid' && /no enabled Global Administrator/.test(e.message));
    const res = await g('/users/admin@contoso.test', userAdmin, { method: 'DELETE' });
    assert.equal(res.status, 403, 'rights are checked first');
    await createUser(server.store.db, { tenantId: server.tenantId, upn: 'ga2@contoso.test', displayName: 'Second GA', password: PW, roles: ['Global Administrator'] });
    const plan = await disableAccount.plan(ctx(), system, 'admin@contoso.test');
    assert.equal(plan.action, 'disableAccount', 'with a second Global Administrator the first may be disabled');
  });

  test('a role lost between preview and apply refuses the apply, and nothing is written', async () => {
    const ua = (await findUserByUpn(server.store.db, server.tenantId, 'ua@contoso.test'))!;
    const actor: Actor = { kind: 'user', id: ua.id, displayName: ua.display_name, upn: ua.upn, roles: ['User Administrator'], scopes: ['Directory.AccessAsUser.All'] };
    const plan = await revokeSessions.plan(ctx(), actor, 'carol@contoso.test');
    await server.store.db.deleteFrom('user_roles').where('user_id', '=', ua.id).execute();
    const before = await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test');
    await assert.rejects(revokeSessions.apply(ctx(), plan), (e: ActionError) => e.code === 'forbidden');
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test'), before);
  });
});
