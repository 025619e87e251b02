// The storage contract of the engine's adapter (src/storage/oidc-adapter.ts) on both databases: the
// oidc-provider Adapter semantics (upsert/find/consume/destroy/findByUid/findByUserCode/revokeByGrantId),
// expiry and the sweep, model isolation, the indexed "everything of this user" query, secrets at rest
// (hashed ids, AES-GCM payloads that fail closed when tampered with), idempotent migrations and WAL.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { Secrets } from '../src/crypto/secrets.js';
import { openStore, type Store } from '../src/storage/db.js';
import { Migrations } from '../src/storage/migrations.js';
import { adapterFactory, StoreAdapter, sweepExpired, type ClientSource } from '../src/storage/oidc-adapter.js';
import { databases, freshPostgres } from './helpers/server.js';

const HOUR = 3600;

for (const dbKind of await databases()) {
  describe(`storage contract (${dbKind})`, () => {
    let store: Store;
    let dataDir: string;
    let pgDb: { url: string; drop: () => Promise<void> } | undefined;
    let secrets: Secrets;
    let adapter: (name: string) => Adapter;
    const clientLookups: string[] = [];
    const clients: ClientSource = {
      clientMetadata(clientId: string) {
        clientLookups.push(clientId);
        return Promise.resolve(clientId === 'app-1' ? { client_id: 'app-1', redirect_uris: ['https://app.example/cb'] } : undefined);
      },
    };
    const location = () => ({ databaseUrl: pgDb?.url ?? '', dataDir });

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-storage-'));
      if (dbKind === 'postgres') pgDb = await freshPostgres();
      store = await openStore(location());
      assert.equal(store.dialect, dbKind);
      secrets = new Secrets(crypto.randomBytes(32));
      adapter = adapterFactory(store.db, secrets, clients);
    });
    after(async () => {
      await store?.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      await store.db.deleteFrom('oidc_models').execute();
      await store.db.deleteFrom('signin_flows').execute();
    });

    async function rawRows() {
      return store.db.selectFrom('oidc_models').selectAll().orderBy('model').orderBy('id_hash').execute();
    }
    async function rowOf(model: string, id: string) {
      return store.db
        .selectFrom('oidc_models')
        .selectAll()
        .where('model', '=', model)
        .where('id_hash', '=', secrets.lookupHash(id, `oidc:${model}:id`))
        .executeTakeFirst();
    }
    async function countRows() {
      const r = await store.db.selectFrom('oidc_models').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    }

    test('upsert then find returns the payload; find of an unknown id returns undefined', async () => {
      const at = adapter('AccessToken');
      const payload: AdapterPayload = { jti: 'at-1', kind: 'AccessToken', accountId: 'user-a', clientId: 'app-1', grantId: 'grant-1', scope: 'openid profile', iat: 1_700_000_000, exp: 1_700_003_600, claims: { userinfo: { email: null } } };
      await at.upsert('at-1', payload, HOUR);
      assert.deepEqual(await at.find('at-1'), payload);
      assert.equal(await at.find('at-unknown'), undefined);
      const row = await rowOf('AccessToken', 'at-1');
      assert.ok(row);
      assert.equal(row.account_id, 'user-a');
      assert.equal(row.grant_id, 'grant-1');
      assert.equal(row.client_id, 'app-1');
      assert.equal(row.consumed_at, null);
      assert.equal(typeof row.expires_at, 'number', 'expires_at reads back as a number on both databases');
    });

    test('upsert twice with the same id replaces the payload and the indexed columns (no duplicate row)', async () => {
      const grant = adapter('Grant');
      await grant.upsert('grant-2', { jti: 'grant-2', kind: 'Grant', accountId: 'user-a', clientId: 'app-1', openid: { scope: 'openid' } }, HOUR);
      const second = { jti: 'grant-2', kind: 'Grant', accountId: 'user-b', clientId: 'app-1', openid: { scope: 'openid profile email' } };
      await grant.upsert('grant-2', second, 2 * HOUR);
      assert.deepEqual(await grant.find('grant-2'), second);
      assert.equal(await countRows(), 1);
      const row = await rowOf('Grant', 'grant-2');
      assert.equal(row?.account_id, 'user-b');
      assert.equal(row?.grant_id, 'grant-2', "a Grant row's grant_id is its own id");
    });

    test('an expired row is not found, and sweepExpired deletes it (and expired sign-in flows) but keeps live rows', async () => {
      const rt = adapter('RefreshToken');
      const t0 = Date.now();
      await rt.upsert('rt-expiring', { jti: 'rt-expiring', accountId: 'user-a' }, 1);
      const t1 = Date.now();
      await rt.upsert('rt-live', { jti: 'rt-live', accountId: 'user-a' }, HOUR);
      await rt.upsert('rt-no-expiry', { jti: 'rt-no-expiry', accountId: 'user-a' }, 0);
      const expiring = await rowOf('RefreshToken', 'rt-expiring');
      assert.ok(expiring?.expires_at !== null && expiring?.expires_at !== undefined);
      assert.ok(expiring.expires_at >= t0 + 1000 && expiring.expires_at <= t1 + 1000, `expires_at ${expiring.expires_at} is expiresIn seconds from now`);
      assert.equal((await rowOf('RefreshToken', 'rt-no-expiry'))?.expires_at, null);
      assert.deepEqual(await rt.find('rt-expiring'), { jti: 'rt-expiring', accountId: 'user-a' }, 'found while still live');

      await store.db.updateTable('oidc_models').set({ expires_at: Date.now() - 1000 }).where('id_hash', '=', expiring.id_hash).execute();
      // an expired refresh token is still handed to the engine, which refuses it as expired (AADSTS700082,
      // D9) rather than unknown; any other model past its expiry is not found
      assert.deepEqual(await rt.find('rt-expiring'), { jti: 'rt-expiring', accountId: 'user-a' });
      const code = adapter('AuthorizationCode');
      await code.upsert('code-expiring', { jti: 'code-expiring', accountId: 'user-a' }, 60);
      const codeRow = await rowOf('AuthorizationCode', 'code-expiring');
      await store.db.updateTable('oidc_models').set({ expires_at: Date.now() - 1000 }).where('id_hash', '=', codeRow!.id_hash).execute();
      assert.equal(await code.find('code-expiring'), undefined);
      assert.deepEqual(await rt.find('rt-live'), { jti: 'rt-live', accountId: 'user-a' });

      const now = Date.now();
      await store.db.insertInto('signin_flows').values([
        { id: 'flow-old', interaction_uid: 'i-1', csrf_hash: 'x', state: '{}', expires_at: now - 1, created_at: now - 10_000 },
        { id: 'flow-new', interaction_uid: 'i-2', csrf_hash: 'y', state: '{}', expires_at: now + 600_000, created_at: now },
      ]).execute();

      assert.equal(await sweepExpired(store.db), 3, 'two engine rows and one sign-in flow');
      assert.equal(await rowOf('RefreshToken', 'rt-expiring'), undefined);
      assert.equal(await countRows(), 2);
      assert.deepEqual(await rt.find('rt-live'), { jti: 'rt-live', accountId: 'user-a' });
      assert.deepEqual(await rt.find('rt-no-expiry'), { jti: 'rt-no-expiry', accountId: 'user-a' });
      const flows = await store.db.selectFrom('signin_flows').select('id').execute();
      assert.deepEqual(flows.map((f) => f.id), ['flow-new']);
      assert.equal(await sweepExpired(store.db), 0, 'a second sweep has nothing to delete');
    });

    test('consume marks the row consumed (find returns `consumed`) without deleting it', async () => {
      const code = adapter('AuthorizationCode');
      const payload = { jti: 'code-1', kind: 'AuthorizationCode', accountId: 'user-a', grantId: 'grant-1', clientId: 'app-1' };
      await code.upsert('code-1', payload, 60);
      assert.equal((await code.find('code-1'))?.consumed, undefined, 'not consumed before consume()');
      const before = Math.floor(Date.now() / 1000);
      await code.consume('code-1');
      const after = Math.floor(Date.now() / 1000);
      const found = await code.find('code-1');
      assert.ok(found, 'a consumed row is still found');
      assert.equal(typeof found.consumed, 'number');
      assert.ok(found.consumed >= before && found.consumed <= after, `consumed ${String(found.consumed)} is the epoch second of consume()`);
      assert.deepEqual({ ...found, consumed: undefined }, { ...payload, consumed: undefined });
      assert.equal(await countRows(), 1);
      assert.notEqual((await rowOf('AuthorizationCode', 'code-1'))?.consumed_at, null);
    });

    test('destroy deletes the row; destroying an unknown id is harmless', async () => {
      const at = adapter('AccessToken');
      await at.upsert('at-destroy', { jti: 'at-destroy' }, HOUR);
      await at.upsert('at-keep', { jti: 'at-keep' }, HOUR);
      await at.destroy('at-destroy');
      assert.equal(await at.find('at-destroy'), undefined);
      assert.equal(await rowOf('AccessToken', 'at-destroy'), undefined);
      assert.deepEqual(await at.find('at-keep'), { jti: 'at-keep' });
      await at.destroy('never-existed');
      assert.equal(await countRows(), 1);
    });

    test('findByUid finds a Session by its uid, only in the Session model, and not once expired', async () => {
      const session = adapter('Session');
      const payload = { jti: 'sess-cookie-1', kind: 'Session', uid: 'sess-uid-1', accountId: 'user-a', loginTs: 1_700_000_000, authorizations: { 'app-1': { sid: 'sid-1', grantId: 'grant-1' } } };
      await session.upsert('sess-cookie-1', payload, HOUR);
      await session.upsert('sess-cookie-2', { ...payload, jti: 'sess-cookie-2', uid: 'sess-uid-2', accountId: 'user-b' }, HOUR);
      assert.deepEqual(await session.findByUid('sess-uid-1'), payload);
      assert.equal((await session.findByUid('sess-uid-2'))?.accountId, 'user-b');
      assert.equal(await session.findByUid('sess-uid-unknown'), undefined);
      assert.equal(await session.findByUid('sess-cookie-1'), undefined, 'the id is not a uid');
      assert.equal(await adapter('AccessToken').findByUid('sess-uid-1'), undefined, 'another model does not see the Session uid');
      const row = await rowOf('Session', 'sess-cookie-1');
      assert.equal(row?.session_uid, 'sess-uid-1');
      assert.equal(row?.uid_hash, secrets.lookupHash('sess-uid-1', 'oidc:Session:uid'));
      await store.db.updateTable('oidc_models').set({ expires_at: Date.now() - 1 }).where('uid_hash', '=', row.uid_hash).execute();
      assert.equal(await session.findByUid('sess-uid-1'), undefined);
    });

    test('findByUserCode finds a DeviceCode by its user code, which is stored only as a keyed hash', async () => {
      const dc = adapter('DeviceCode');
      const payload = { jti: 'device-code-1', kind: 'DeviceCode', userCode: 'WDJB-MJHT', clientId: 'app-1', params: { scope: 'openid' } };
      await dc.upsert('device-code-1', payload, 600);
      await dc.upsert('device-code-2', { ...payload, jti: 'device-code-2', userCode: 'BDWP-HQPK' }, 600);
      assert.deepEqual(await dc.findByUserCode('WDJB-MJHT'), payload);
      assert.equal((await dc.findByUserCode('BDWP-HQPK'))?.jti, 'device-code-2');
      assert.equal(await dc.findByUserCode('XXXX-XXXX'), undefined);
      assert.equal(await adapter('AccessToken').findByUserCode('WDJB-MJHT'), undefined);
      const dump = JSON.stringify(await rawRows());
      assert.ok(!dump.includes('WDJB'), 'the user code is not stored in clear');
      assert.equal((await rowOf('DeviceCode', 'device-code-1'))?.user_code_hash, secrets.lookupHash('WDJB-MJHT', 'oidc:DeviceCode:userCode'));
    });

    test('revokeByGrantId deletes only the rows of that grant in that model', async () => {
      const rt = adapter('RefreshToken');
      const at = adapter('AccessToken');
      await rt.upsert('rt-g1-a', { jti: 'rt-g1-a', grantId: 'g1' }, HOUR);
      await rt.upsert('rt-g1-b', { jti: 'rt-g1-b', grantId: 'g1' }, HOUR);
      await rt.upsert('rt-g2', { jti: 'rt-g2', grantId: 'g2' }, HOUR);
      await at.upsert('at-g1', { jti: 'at-g1', grantId: 'g1' }, HOUR);
      await adapter('Grant').upsert('g1', { jti: 'g1', kind: 'Grant', accountId: 'user-a' }, HOUR);
      await rt.revokeByGrantId('g1');
      assert.equal(await rt.find('rt-g1-a'), undefined);
      assert.equal(await rt.find('rt-g1-b'), undefined);
      assert.deepEqual(await rt.find('rt-g2'), { jti: 'rt-g2', grantId: 'g2' });
      assert.deepEqual(await at.find('at-g1'), { jti: 'at-g1', grantId: 'g1' }, 'other models of the grant stay');
      assert.equal((await adapter('Grant').find('g1'))?.accountId, 'user-a', 'the Grant itself stays');
      assert.equal(await countRows(), 3);
      await at.revokeByGrantId('g1');
      assert.equal(await at.find('at-g1'), undefined);
      assert.equal(await countRows(), 2);
    });

    test('models are isolated: the same id in two models is two rows', async () => {
      const at = adapter('AccessToken');
      const rt = adapter('RefreshToken');
      await at.upsert('shared-id', { jti: 'shared-id', kind: 'AccessToken' }, HOUR);
      await rt.upsert('shared-id', { jti: 'shared-id', kind: 'RefreshToken' }, HOUR);
      assert.equal(await countRows(), 2);
      const rows = await rawRows();
      assert.deepEqual(rows.map((r) => r.model), ['AccessToken', 'RefreshToken']);
      assert.notEqual(rows[0]?.id_hash, rows[1]?.id_hash, 'the id hash is per model');
      assert.equal((await at.find('shared-id'))?.kind, 'AccessToken');
      assert.equal((await rt.find('shared-id'))?.kind, 'RefreshToken');
      await at.consume('shared-id');
      assert.equal((await rt.find('shared-id'))?.consumed, undefined, 'consuming in one model leaves the other');
      await at.destroy('shared-id');
      assert.equal(await at.find('shared-id'), undefined);
      assert.equal((await rt.find('shared-id'))?.kind, 'RefreshToken');
      assert.equal(await adapter('AuthorizationCode').find('shared-id'), undefined);
    });

    test('"everything of this user" is one query on account_id, backed by the index oidc_models_account', async () => {
      await adapter('Session').upsert('s-x', { jti: 's-x', uid: 'uid-x', accountId: 'user-x' }, HOUR);
      await adapter('Grant').upsert('g-x', { jti: 'g-x', accountId: 'user-x' }, HOUR);
      await adapter('AccessToken').upsert('at-x', { jti: 'at-x', accountId: 'user-x', grantId: 'g-x' }, HOUR);
      await adapter('RefreshToken').upsert('rt-x', { jti: 'rt-x', accountId: 'user-x', grantId: 'g-x' }, HOUR);
      await adapter('RefreshToken').upsert('rt-y', { jti: 'rt-y', accountId: 'user-y', grantId: 'g-y' }, HOUR);
      await adapter('Interaction').upsert('int-1', { jti: 'int-1', kind: 'Interaction' }, HOUR);

      const mine = await store.db.selectFrom('oidc_models').select(['model', 'id_hash']).where('account_id', '=', 'user-x').orderBy('model').execute();
      assert.deepEqual(mine.map((r) => r.model), ['AccessToken', 'Grant', 'RefreshToken', 'Session']);
      assert.equal(mine.find((r) => r.model === 'RefreshToken')?.id_hash, secrets.lookupHash('rt-x', 'oidc:RefreshToken:id'));

      if (store.dialect === 'sqlite') {
        const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT * FROM oidc_models WHERE account_id = ${'user-x'}`.execute(store.db);
        const details = plan.rows.map((r) => r.detail);
        assert.ok(details.some((d) => /^SEARCH oidc_models USING (COVERING )?INDEX oidc_models_account \(account_id=\?\)/.test(d)), `plan: ${details.join(' | ')}`);
        assert.ok(!details.some((d) => /^SCAN oidc_models/.test(d)), `no full scan: ${details.join(' | ')}`);
      } else {
        const idx = await sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'oidc_models' AND indexname = 'oidc_models_account'`.execute(store.db);
        assert.equal(idx.rows.length, 1);
        assert.match(idx.rows[0]?.indexdef ?? '', /ON \S*oidc_models USING btree \(account_id, model, created_at\)/);
      }
    });

    test('secrets at rest: ids are stored as keyed hashes and the payload is encrypted', async () => {
      const rt = adapter('RefreshToken');
      const payload = {
        jti: 'rt-secret-value-123',
        kind: 'RefreshToken',
        accountId: 'user-plain-1',
        clientId: 'app-1',
        grantId: 'grant-plain-1',
        sessionUid: 'session-plain-1',
        nonce: 'nonce-secret-456',
        jkt: 'jkt-secret-789',
        'x5t#S256': 'x5t-secret-abc',
        scope: 'openid offline_access',
        claims: { id_token: { email: { essential: true } } },
        iat: 1_700_000_000,
        exp: 1_700_086_400,
      };
      await rt.upsert('rt-secret-value-123', payload, HOUR);
      const raw = await sql<Record<string, unknown>>`SELECT * FROM oidc_models`.execute(store.db);
      assert.equal(raw.rows.length, 1);
      const row = raw.rows[0] as Record<string, unknown>;
      const dump = JSON.stringify(raw.rows);
      for (const secret of ['rt-secret-value-123', 'nonce-secret-456', 'jkt-secret-789', 'x5t-secret-abc', 'offline_access', 'essential', '"jti"']) {
        assert.ok(!dump.includes(secret), `${secret} is not in the stored row`);
      }
      assert.notEqual(row.id_hash, 'rt-secret-value-123');
      assert.equal(row.id_hash, secrets.lookupHash('rt-secret-value-123', 'oidc:RefreshToken:id'));
      assert.match(String(row.payload), /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/, 'the payload is a sealed AES-GCM value');
      // The lookup columns are plain by design (spec D14: ids of users, grants and sessions are not bearer values).
      assert.equal(row.account_id, 'user-plain-1');
      assert.equal(row.grant_id, 'grant-plain-1');
      assert.equal(row.session_uid, 'session-plain-1');
      assert.equal(row.client_id, 'app-1');
      // Another master key can neither find the row nor read the payload.
      const other = new StoreAdapter('RefreshToken', store.db, new Secrets(crypto.randomBytes(32)));
      assert.equal(await other.find('rt-secret-value-123'), undefined);
      assert.deepEqual(await rt.find('rt-secret-value-123'), payload);
    });

    test('a tampered ciphertext fails decryption: find rejects rather than return altered data', async () => {
      const at = adapter('AccessToken');
      await at.upsert('at-tamper', { jti: 'at-tamper', accountId: 'user-a', scope: 'openid profile email offline_access' }, HOUR);
      const row = await rowOf('AccessToken', 'at-tamper');
      assert.ok(row);
      const parts = row.payload.split('.');
      assert.equal(parts.length, 4);
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      // Change one character of the iv, the ciphertext body and the tag in turn (never a last character,
      // whose low bits base64url may ignore).
      for (const part of [1, 2, 3]) {
        const p = [...parts];
        p[part] = flip(p[part] ?? '', Math.floor((p[part] ?? '').length / 2));
        const tampered = p.join('.');
        assert.notEqual(tampered, row.payload);
        await store.db.updateTable('oidc_models').set({ payload: tampered }).where('model', '=', 'AccessToken').where('id_hash', '=', row.id_hash).execute();
        await assert.rejects(at.find('at-tamper'), /unable to authenticate data/, `tampered part ${part}`);
      }
      // A sealed payload moved to another row (another id) fails too: the id hash is the associated data.
      await at.upsert('at-other', { jti: 'at-other', accountId: 'user-b' }, HOUR);
      await store.db.updateTable('oidc_models').set({ payload: row.payload }).where('model', '=', 'AccessToken').where('id_hash', '=', secrets.lookupHash('at-other', 'oidc:AccessToken:id')).execute();
      await assert.rejects(at.find('at-other'), /unable to authenticate data/);
      // Restoring the original ciphertext makes the original row readable again.
      await store.db.updateTable('oidc_models').set({ payload: row.payload }).where('id_hash', '=', row.id_hash).execute();
      assert.deepEqual(await at.find('at-tamper'), { jti: 'at-tamper', accountId: 'user-a', scope: 'openid profile email offline_access' });
    });

    test('the Client model is served from app registrations, never written through the engine', async () => {
      const client = adapter('Client');
      assert.ok(!(client instanceof StoreAdapter));
      assert.deepEqual(await client.find('app-1'), { client_id: 'app-1', redirect_uris: ['https://app.example/cb'] });
      assert.equal(await client.find('app-unknown'), undefined);
      assert.deepEqual(clientLookups.slice(-2), ['app-1', 'app-unknown']);
      await assert.rejects(client.upsert('app-1', { client_id: 'app-1' }, 0), /not written through the engine/);
      assert.equal(await countRows(), 0);
    });

    describe('reopening', () => {
      let second: Store | undefined;
      afterEach(async () => {
        await second?.close();
        second = undefined;
      });

      test('migrations are idempotent: opening the same database again works and keeps the data', async () => {
        await adapter('RefreshToken').upsert('rt-persist', { jti: 'rt-persist', accountId: 'user-a' }, HOUR);
        second = await openStore(location());
        if (dbKind === 'sqlite') assert.equal(second.file, store.file);
        const migrations = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(second.db);
        // every migration of the one source ran once, in name order
        assert.deepEqual(migrations.rows.map((r) => r.name), Object.keys(await new Migrations(dbKind).getMigrations()).sort());
        assert.deepEqual(await new StoreAdapter('RefreshToken', second.db, secrets).find('rt-persist'), { jti: 'rt-persist', accountId: 'user-a' });
      });

      // (defined for SQLite only: PostgreSQL has no journal mode)
      if (dbKind === 'sqlite') test('SQLite runs in WAL mode', async () => {
        const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(store.db);
        assert.deepEqual(mode.rows, [{ journal_mode: 'wal' }]);
        assert.ok(store.file && fs.existsSync(`${store.file}-wal`), 'the -wal file exists next to the database');
        second = await openStore(location());
        const again = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(second.db);
        assert.deepEqual(again.rows, [{ journal_mode: 'wal' }]);
      });
    });
  });
}

test('a PostgreSQL server that cannot be reached: the error says the database could not be opened, naming the cause', async () => {
  await assert.rejects(openStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/x', dataDir: os.tmpdir() }), (e: unknown) => {
    assert.match(String((e as Error).message), /^the database could not be opened: Error: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    return true;
  });
});
