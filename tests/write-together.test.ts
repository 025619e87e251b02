// `writeTogether` (src/storage/statements.ts), on both databases: the batchable writes of its work are
// queued and written after it, behind its guard (none written when the guard changes no row); on SQLite in
// one transaction. A sign-in finished in place writes its grant, code, session, browser-session record and
// log this way (src/protocol/authorization-in-place.ts).
import crypto from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secrets } from '../src/crypto/secrets.js';
import { observeStatements, type Store } from '../src/storage/db.js';
import { StoreAdapter, takeInteraction } from '../src/storage/oidc-adapter.js';
import { writeTogether } from '../src/storage/statements.js';
import { databases, freshStore } from './helpers/server.js';

const HOUR = 3600;

for (const dbKind of await databases()) {
  describe(`writeTogether (${dbKind})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    let secrets: Secrets;
    let grants: StoreAdapter;
    let interactions: StoreAdapter;

    before(async () => {
      ({ store, close } = await freshStore(dbKind));
      secrets = new Secrets(crypto.randomBytes(32));
      grants = new StoreAdapter('Grant', store.db, secrets);
      interactions = new StoreAdapter('Interaction', store.db, secrets);
    });
    after(() => close?.());
    beforeEach(async () => {
      await store.db.deleteFrom('oidc_models').execute();
      await interactions.upsert('i-1', { jti: 'i-1', kind: 'Interaction' }, HOUR);
    });

    const rows = async () => (await store.db.selectFrom('oidc_models').select('model').orderBy('model').execute()).map((r) => r.model);
    const grant = (id: string) => grants.upsert(id, { jti: id, kind: 'Grant', accountId: 'u-1' }, HOUR);

    const take = () => takeInteraction(store.db, secrets, 'i-1');

    test('the work’s writes are queued, then written behind the guard (on SQLite in one transaction)', async () => {
      const seen: string[] = [];
      observeStatements((sql) => seen.push(sql.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase()));
      try {
        const done = await writeTogether(store.db, take(), async () => {
          await grant('g-1');
          await grant('g-2');
          // queued, not run: nothing is written while the work runs
          assert.deepEqual(seen, []);
          return 'done';
        });
        assert.deepEqual(done, { value: 'done' });
      } finally {
        observeStatements(undefined);
      }
      const writes = ['delete from "oidc_models"', 'insert into "oidc_models"', 'insert into "oidc_models"'];
      assert.deepEqual(seen, dbKind === 'sqlite' ? ['begin', ...writes, 'commit'] : writes);
      assert.deepEqual(await rows(), ['Grant', 'Grant']);
      assert.equal((await grants.find('g-2'))?.accountId, 'u-1');
    });

    test('a guard that changes no row: nothing is written, and the answer is undefined', async () => {
      await interactions.destroy('i-1');
      const done = await writeTogether(store.db, take(), async () => {
        await grant('g-1');
        return 'done';
      });
      assert.equal(done, undefined);
      assert.deepEqual(await rows(), []);
    });

    test('the same guard twice at once: one batch is written', async () => {
      const finish = (id: string) =>
        writeTogether(store.db, take(), async () => {
          await grant(id);
          return id;
        });
      const answers = await Promise.all([finish('g-1'), finish('g-2')]);
      assert.equal(answers.filter((a) => a !== undefined).length, 1, JSON.stringify(answers));
      assert.deepEqual(await rows(), ['Grant']);
    });

    test('work that fails writes nothing, and its error comes out', async () => {
      await assert.rejects(
        writeTogether(store.db, take(), async () => {
          await grant('g-1');
          throw new Error('work failed');
        }),
        /work failed/,
      );
      assert.deepEqual(await rows(), ['Interaction']);
    });

    test('a write the work started but did not wait for is written on its own when it comes', async () => {
      let late: Promise<unknown> | undefined;
      await writeTogether(store.db, take(), async () => {
        late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => grant('g-late'));
        await grant('g-1');
      });
      await late;
      assert.deepEqual(await rows(), ['Grant', 'Grant']);
      assert.ok(await grants.find('g-late'));
    });

    test('writeTogether does not nest', async () => {
      await assert.rejects(
        writeTogether(store.db, take(), () => writeTogether(store.db, take(), () => Promise.resolve(1))),
        /does not nest/,
      );
      assert.deepEqual(await rows(), ['Interaction']);
    });

    test('beside a transaction open on the store, the batch waits its turn and neither joins the other', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // another caller's transaction, open across an await, which then rolls back
      const other = store.db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('oidc_models').values({ model: 'Other', id_hash: 'x', payload: 'p', created_at: Date.now() }).execute();
          await held;
          throw new Error('the other transaction rolls back');
        })
        .catch((e: Error) => e.message);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const batch = writeTogether(store.db, take(), async () => {
        await grant('g-1');
        return 'done';
      });
      setTimeout(release, 20);
      assert.deepEqual(await batch, { value: 'done' });
      assert.equal(await other, 'the other transaction rolls back');
      assert.deepEqual(await rows(), ['Grant']);
    });
  });
}
