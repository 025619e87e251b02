// Who may create a group over Graph (POST /v1.0/groups), plain or role-assignable, per directory role: a
// literal table asked of Graph with each role's own token, on each database, with the answer of
// GET /latchkey/v1/directory/actions agreeing with Graph's for every role. Entra: Groups and User
// Administrators write plain groups but no role-assignable one; a role-assignable group is created and
// managed by a Privileged Role Administrator (or a Global Administrator), who writes no plain group
// ("Use Microsoft Entra groups to manage role assignments"; the built-in roles' actions). Then a Privileged
// Role Administrator manages the role-assignable group it made (description, members, delete) while a
// Groups Administrator is refused each of those writes, as the directory actions said.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../src/directory/users.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'Group-Rights-Pw-1';
const CREATED = 201;
const PLAIN_REFUSED = 'Insufficient privileges to complete the operation: creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.';
const ROLE_ASSIGNABLE_REFUSED = 'Insufficient privileges to complete the operation: creating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.';

// directory role → [a plain security group, a role-assignable one]: created, or the 403's message
const CREATE: Record<string, [typeof CREATED | string, typeof CREATED | string]> = {
  'Global Administrator': [CREATED, CREATED],
  'Privileged Role Administrator': [PLAIN_REFUSED, CREATED],
  'Groups Administrator': [CREATED, ROLE_ASSIGNABLE_REFUSED],
  'User Administrator': [CREATED, ROLE_ASSIGNABLE_REFUSED],
  'Privileged Authentication Administrator': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
  'Helpdesk Administrator': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
  'Application Administrator': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
  'Cloud Application Administrator': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
  'Global Reader': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
  '(no role)': [PLAIN_REFUSED, ROLE_ASSIGNABLE_REFUSED],
};

const slug = (role: string) => role.replace(/[^a-z]/gi, '').toLowerCase();

interface Answer {
  status: number;
  body: (Record<string, unknown> & { error?: { code: string; message: string }; value?: { name: string; allowed: boolean; reason?: string }[] }) | undefined;
}

for (const dbKind of await databases()) {
  describe(`who may create a group, plain or role-assignable (${dbKind})`, () => {
    let server: TestServer;
    const tokens: Record<string, string> = {};

    const call = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : undefined };
    };
    /** What /latchkey/v1/directory/actions tells a caller about some writes: true, or the refusal's message. */
    const told = async (role: string, names: string[]) => {
      const r = await call(tokens[role]!, 'GET', '/latchkey/v1/directory/actions');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return names.map((n) => {
        const a = r.body!.value!.find((x) => x.name === n)!;
        return a.allowed ? true : a.reason;
      });
    };
    const groupNames = async () => (await server.store.db.selectFrom('groups').select(['display_name', 'is_assignable_to_role']).orderBy('display_name').execute()).map((g) => `${g.display_name}${g.is_assignable_to_role ? ' (role-assignable)' : ''}`);
    const group = (role: string, roleAssignable: boolean) => ({
      displayName: `${role} ${roleAssignable ? 'role group' : 'group'}`,
      mailNickname: `${slug(role)}${roleAssignable ? '-role' : ''}`,
      mailEnabled: false,
      securityEnabled: true,
      ...(roleAssignable ? { isAssignableToRole: true } : {}),
    });

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      for (const role of Object.keys(CREATE)) {
        const upn = `${slug(role)}@${server.tenantDomain}`;
        await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: role, password: PASSWORD, roles: role === '(no role)' ? [] : [role] });
        tokens[role] = await delegatedGraphToken(server, upn, PASSWORD);
      }
    });
    after(async () => {
      await server?.close();
    });

    test('each role creates exactly the groups of its row; the directory actions said so, with the very message Graph refuses with', async () => {
      const before = await groupNames();
      const expected: string[] = [...before];
      for (const [role, [plain, roleAssignable]] of Object.entries(CREATE)) {
        assert.deepEqual(await told(role, ['createGroup', 'createRoleAssignableGroup']), [plain === CREATED || plain, roleAssignable === CREATED || roleAssignable], `${role}: the directory actions`);
        for (const [kind, want] of [[false, plain], [true, roleAssignable]] as const) {
          const res = await call(tokens[role]!, 'POST', '/v1.0/groups', group(role, kind));
          if (want === CREATED) {
            assert.deepEqual([res.status, res.body?.isAssignableToRole], [201, kind], `${role}: ${JSON.stringify(res.body)}`);
            expected.push(`${group(role, kind).displayName}${kind ? ' (role-assignable)' : ''}`);
          } else {
            assert.deepEqual([res.status, res.body?.error?.code, res.body?.error?.message], [403, 'Authorization_RequestDenied', want], `${role}, ${kind ? 'role-assignable' : 'plain'}`);
          }
        }
      }
      assert.deepEqual(await groupNames(), expected.sort());
      const audited = await server.store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).where('activity', '=', 'Add group').executeTakeFirstOrThrow();
      assert.equal(Number(audited.n), expected.length - before.length, 'one Add group record per group created, none for a refusal');
    });

    test('a Privileged Role Administrator manages a role-assignable group, a Groups Administrator may not; a plain group the other way round', async () => {
      const pra = 'Privileged Role Administrator';
      const ga = 'Groups Administrator';
      const made = await call(tokens[pra]!, 'POST', '/v1.0/groups', { displayName: 'Tier 0 admins', mailNickname: 'tier0-admins', mailEnabled: false, securityEnabled: true, isAssignableToRole: true });
      const plain = await call(tokens[ga]!, 'POST', '/v1.0/groups', { displayName: 'Sales', mailNickname: 'sales', mailEnabled: false, securityEnabled: true });
      assert.deepEqual([made.status, plain.status], [201, 201]);
      const roleGroup = made.body!.id as string;
      const plainGroup = plain.body!.id as string;
      const member = await createUser(server.store.db, { tenantId: server.tenantId, upn: `member@${server.tenantDomain}`, displayName: 'Member', password: PASSWORD });
      const ref = { '@odata.id': `${server.origin}/v1.0/directoryObjects/${member.id}` };
      const writes = (id: string): [string, string, string, unknown?][] => [
        ['update', 'PATCH', `/v1.0/groups/${id}`, { description: 'Who holds Tier 0 roles' }],
        ['members', 'POST', `/v1.0/groups/${id}/members/$ref`, ref],
        ['members', 'DELETE', `/v1.0/groups/${id}/members/${member.id}/$ref`],
        ['delete', 'DELETE', `/v1.0/groups/${id}`],
      ];
      const REFUSED: Record<string, string> = {
        'Groups Administrator update': 'Insufficient privileges to complete the operation: updating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        'Groups Administrator members': 'Insufficient privileges to complete the operation: changing the members of a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        'Groups Administrator delete': 'Insufficient privileges to complete the operation: deleting a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        'Privileged Role Administrator update': 'Insufficient privileges to complete the operation: updating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        'Privileged Role Administrator members': 'Insufficient privileges to complete the operation: changing group members needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        'Privileged Role Administrator delete': 'Insufficient privileges to complete the operation: deleting groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
      };
      // the directory actions say the same
      assert.deepEqual(await told(ga, ['updateRoleAssignableGroup', 'changeRoleAssignableGroupMembers', 'deleteRoleAssignableGroup', 'updateGroup', 'changeGroupMembers', 'deleteGroup']), [REFUSED['Groups Administrator update'], REFUSED['Groups Administrator members'], REFUSED['Groups Administrator delete'], true, true, true]);
      assert.deepEqual(await told(pra, ['updateRoleAssignableGroup', 'changeRoleAssignableGroupMembers', 'deleteRoleAssignableGroup', 'updateGroup', 'changeGroupMembers', 'deleteGroup']), [true, true, true, REFUSED['Privileged Role Administrator update'], REFUSED['Privileged Role Administrator members'], REFUSED['Privileged Role Administrator delete']]);

      // refused: the other role's group, each write, nothing changed
      const snapshot = async () => JSON.stringify([await server.store.db.selectFrom('groups').selectAll().orderBy('id').execute(), await server.store.db.selectFrom('group_members').selectAll().orderBy('group_id').execute()]);
      const unchanged = await snapshot();
      for (const [who, target] of [[ga, roleGroup], [pra, plainGroup]] as const) {
        for (const [write, method, path, body] of writes(target)) {
          const res = await call(tokens[who]!, method, path, body);
          assert.deepEqual([res.status, res.body?.error?.code, res.body?.error?.message], [403, 'Authorization_RequestDenied', REFUSED[`${who} ${write}`]], `${who}: ${method} ${path}`);
        }
      }
      assert.equal(await snapshot(), unchanged, 'nothing changed');

      // allowed: each its own kind of group, every write, each audited as its author's
      const last = await server.store.db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
      for (const [who, target] of [[pra, roleGroup], [ga, plainGroup]] as const) {
        for (const [, method, path, body] of writes(target)) {
          const res = await call(tokens[who]!, method, path, body);
          assert.equal(res.status, 204, `${who}: ${method} ${path}: ${JSON.stringify(res.body)}`);
        }
        assert.equal((await call(tokens[who]!, 'GET', `/v1.0/groups/${target}`)).status, 404, 'deleted');
      }
      const audited = await server.store.db.selectFrom('audit_log').select(['actor_name', 'activity', 'target_id']).where('id', '>', Number(last.id)).orderBy('id').execute();
      const trail = (who: string, group: string) => [
        [who, 'Update group', group],
        [who, 'Add member to group', member.id],
        [who, 'Remove member from group', member.id],
        [who, 'Delete group', group],
      ];
      assert.deepEqual(audited.map((a) => [a.actor_name, a.activity, a.target_id]), [...trail(pra, roleGroup), ...trail(ga, plainGroup)]);
    });
  });
}
