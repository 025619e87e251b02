// The sweeper deletes what has expired and nothing else: engine rows, sign-in flows, idle browser-session
// records, forgotten lockout counters (never a running lock) and locations no longer familiar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sweepExpired } from '../src/storage/oidc-adapter.js';
import { databases, freshStore } from './helpers/server.js';

const DAY = 86_400_000;

for (const dbKind of await databases()) {
  test(`sweep deletes only expired rows (${dbKind})`, async () => {
    const { store, close } = await freshStore(dbKind);
    try {
      const now = Date.now();
      const db = store.db;
      const model = (id: string, expires: number | null) => ({ model: 'RefreshToken', id_hash: id, payload: 'x', account_id: null, grant_id: null, session_uid: null, uid_hash: null, user_code_hash: null, client_id: null, expires_at: expires, consumed_at: null });
      await db.insertInto('oidc_models').values([model('old', now - 1), model('live', now + DAY), model('forever', null)]).execute();
      const session = (id: string, lastUsed: number) => ({ id, tenant_id: 't', user_id: 'u', auth_time: lastUsed, amr: '[]', password_based: 1, persistent: 1, ip: '127.0.0.1', user_agent: 'x', created_at: lastUsed, last_used_at: lastUsed });
      await db.insertInto('signin_sessions').values([session('idle', now - 91 * DAY), session('recent', now - 89 * DAY)]).execute();
      const lock = (user: string, updated: number, lockedUntil: number | null) => ({ user_id: user, location: 'familiar' as const, failures: 3, lockouts: 1, locked_until: lockedUntil, recent_bad: '[]', updated_at: updated });
      await db.insertInto('signin_lockouts').values([lock('forgotten', now - 2 * DAY, null), lock('locked', now - 2 * DAY, now + 60_000), lock('fresh', now - 1000, null)]).execute();
      await db.insertInto('familiar_locations').values([{ user_id: 'u', prefix: '10.0.0.0/24', last_success_at: now - 31 * DAY }, { user_id: 'u', prefix: '10.0.1.0/24', last_success_at: now - 29 * DAY }]).execute();

      assert.equal(await sweepExpired(db, now), 4);
      assert.deepEqual((await db.selectFrom('oidc_models').select('id_hash').orderBy('id_hash').execute()).map((r) => r.id_hash), ['forever', 'live']);
      assert.deepEqual((await db.selectFrom('signin_sessions').select('id').execute()).map((r) => r.id), ['recent']);
      assert.deepEqual((await db.selectFrom('signin_lockouts').select('user_id').orderBy('user_id').execute()).map((r) => r.user_id), ['fresh', 'locked']);
      assert.deepEqual((await db.selectFrom('familiar_locations').select('prefix').execute()).map((r) => r.prefix), ['10.0.1.0/24']);
      assert.equal(await sweepExpired(db, now), 0);
    } finally {
      await close();
    }
  });
}
