// A cache's load runs marked (`cacheLoad`, src/directory/cache.ts): the statements it runs are the cache's,
// once per entry and 5 s whatever the request rate, and `npm run bench` counts them apart from a sign-in's
// own. The mark holds for the load alone: the request that asked keeps its page memo inside the load, and
// its own statements before and after are not marked. Both caches (the stamped rows of a tenant's methods
// policy and settings, the engine's view of apps and consents), on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { StampedCache, asOneRequest, pageRequestState } from '../src/directory/cache.js';
import { DirectoryCache } from '../src/directory/version.js';
import { type Db, observeStatements, type Store } from '../src/storage/db.js';
import { currentScope } from '../src/storage/scope.js';
import { databases, freshStore } from './helpers/server.js';

for (const dbKind of await databases()) {
  describe(`a cache's load is marked, and only it (${dbKind})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    /** each statement with whether it ran marked as a cache's load */
    let seen: { sql: string; cacheLoad: boolean }[] = [];

    before(async () => {
      ({ store, close } = await freshStore(dbKind));
      observeStatements((text) => seen.push({ sql: text, cacheLoad: currentScope()?.cacheLoad === true }));
    });
    after(async () => {
      observeStatements(undefined);
      await close?.();
    });

    const marked = (tag: string) => seen.filter((s) => s.sql.includes(tag)).map((s) => s.cacheLoad);
    /** a load that reads one row tagged `tag`, and says what it saw of the scope */
    const loader = (tag: string, inside: { cacheLoad?: boolean; page?: unknown }[]) => async (db: Db) => {
      inside.push({ cacheLoad: currentScope()?.cacheLoad, page: pageRequestState() });
      const { rows } = await sql<{ v: number }>`select 1 as v where ${sql.lit(tag)} = ${sql.lit(tag)}`.execute(db);
      return rows[0]!.v;
    };

    test('a stamped row: the first get loads marked, the second is a hit, the request around it is not marked', async () => {
      seen = [];
      const inside: { cacheLoad?: boolean; page?: unknown }[] = [];
      const cache = new StampedCache<number>(loader('stamped-load', inside), () => 1, 60_000);
      await asOneRequest(async () => {
        const page = pageRequestState();
        await sql`select 2 where ${sql.lit('own-before')} = ${sql.lit('own-before')}`.execute(store.db);
        assert.equal(await cache.get(store.db, 'tenant-1'), 1);
        assert.equal(await cache.get(store.db, 'tenant-1'), 1);
        assert.equal(currentScope()?.cacheLoad, undefined, 'the request is not marked after the load');
        await sql`select 3 where ${sql.lit('own-after')} = ${sql.lit('own-after')}`.execute(store.db);
        assert.deepEqual(inside, [{ cacheLoad: true, page }], 'one load, marked, with the request page memo at hand');
      });
      assert.deepEqual(marked('stamped-load'), [true]);
      assert.deepEqual(marked('own-before'), [false]);
      assert.deepEqual(marked('own-after'), [false]);
    });

    test("the engine's view of apps: the same", async () => {
      seen = [];
      const inside: { cacheLoad?: boolean; page?: unknown }[] = [];
      const cache = new DirectoryCache(store.db, 'tenant-1', pageRequestState, 60_000);
      const load = loader('directory-load', inside);
      await asOneRequest(async () => {
        const page = pageRequestState();
        assert.equal(await cache.get('app-1', () => load(store.db)), 1);
        assert.equal(await cache.get('app-1', () => load(store.db)), 1);
        assert.equal(currentScope()?.cacheLoad, undefined);
        await sql`select 3 where ${sql.lit('own-next')} = ${sql.lit('own-next')}`.execute(store.db);
        assert.deepEqual(inside, [{ cacheLoad: true, page }]);
      });
      assert.deepEqual(marked('directory-load'), [true]);
      assert.deepEqual(marked('own-next'), [false]);
    });

    test('outside any request, a load is marked all the same', async () => {
      seen = [];
      const inside: { cacheLoad?: boolean; page?: unknown }[] = [];
      const cache = new StampedCache<number>(loader('bare-load', inside), () => 1, 60_000);
      assert.equal(await cache.get(store.db, 'tenant-2'), 1);
      assert.deepEqual(inside, [{ cacheLoad: true, page: undefined }]);
      assert.deepEqual(marked('bare-load'), [true]);
      assert.equal(currentScope(), undefined, 'nothing left behind');
    });
  });
}
