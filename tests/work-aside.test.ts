// Work aside from a request's own runs marked (`aside` in src/storage/scope.ts), so that counts of a
// request's statements tell it apart (tests/statement-counts.test.ts, `npm run bench`):
// - a cache's load (`cacheLoad`, src/directory/cache.ts): once per entry and 5 s whatever the request rate.
//   The mark holds for the load alone: the request that asked keeps its page memo inside the load, and its
//   own statements before and after are not marked. Both caches (the stamped rows of a tenant's methods
//   policy and settings, the engine's view of apps and consents);
// - a turn of the outbox deliverer (`inBackground`), even when a request kicked it, in a scope of its own.
// On both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { StampedCache, asOneRequest, pageRequestState } from '../src/directory/cache.js';
import { DirectoryCache } from '../src/directory/version.js';
import { type Db, observeStatements, type Store } from '../src/storage/db.js';
import { startDeliverer } from '../src/events/deliver.js';
import { currentScope } from '../src/storage/scope.js';
import { databases, freshStore } from './helpers/server.js';

interface Inside {
  aside: string | undefined;
  page: unknown;
}

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), 'in time');
}

for (const dbKind of await databases()) {
  describe(`work aside from a request is marked, and only it (${dbKind})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    /** each statement with whether it ran marked as a cache's load */
    let seen: { sql: string; aside: string | undefined }[] = [];

    before(async () => {
      ({ store, close } = await freshStore(dbKind));
      observeStatements((text) => seen.push({ sql: text, aside: currentScope()?.aside }));
    });
    after(async () => {
      observeStatements(undefined);
      await close?.();
    });

    const marked = (tag: string) => seen.filter((s) => s.sql.includes(tag)).map((s) => s.aside);
    /** a load that reads one row tagged `tag`, and says what it saw of the scope */
    const loader = (tag: string, inside: Inside[]) => async (db: Db) => {
      inside.push({ aside: currentScope()?.aside, page: pageRequestState() });
      const { rows } = await sql<{ v: number }>`select 1 as v where ${sql.lit(tag)} = ${sql.lit(tag)}`.execute(db);
      return rows[0]!.v;
    };

    test('a stamped row: the first get loads marked, the second is a hit, the request around it is not marked', async () => {
      seen = [];
      const inside: Inside[] = [];
      const cache = new StampedCache<number>(loader('stamped-load', inside), () => 1, 60_000);
      await asOneRequest(async () => {
        const page = pageRequestState();
        await sql`select 2 where ${sql.lit('own-before')} = ${sql.lit('own-before')}`.execute(store.db);
        assert.equal(await cache.get(store.db, 'tenant-1'), 1);
        assert.equal(await cache.get(store.db, 'tenant-1'), 1);
        assert.equal(currentScope()?.aside, undefined, 'the request is not marked after the load');
        await sql`select 3 where ${sql.lit('own-after')} = ${sql.lit('own-after')}`.execute(store.db);
        assert.deepEqual(inside, [{ aside: 'cache load', page }], 'one load, marked, with the request page memo at hand');
      });
      assert.deepEqual(marked('stamped-load'), ['cache load']);
      assert.deepEqual(marked('own-before'), [undefined]);
      assert.deepEqual(marked('own-after'), [undefined]);
    });

    test("the engine's view of apps: the same", async () => {
      seen = [];
      const inside: Inside[] = [];
      const cache = new DirectoryCache(store.db, 'tenant-1', pageRequestState, 60_000);
      const load = loader('directory-load', inside);
      await asOneRequest(async () => {
        const page = pageRequestState();
        assert.equal(await cache.get('app-1', () => load(store.db)), 1);
        assert.equal(await cache.get('app-1', () => load(store.db)), 1);
        assert.equal(currentScope()?.aside, undefined);
        await sql`select 3 where ${sql.lit('own-next')} = ${sql.lit('own-next')}`.execute(store.db);
        assert.deepEqual(inside, [{ aside: 'cache load', page }]);
      });
      assert.deepEqual(marked('directory-load'), ['cache load']);
      assert.deepEqual(marked('own-next'), [undefined]);
    });

    test('outside any request, a load is marked all the same', async () => {
      seen = [];
      const inside: Inside[] = [];
      const cache = new StampedCache<number>(loader('bare-load', inside), () => 1, 60_000);
      assert.equal(await cache.get(store.db, 'tenant-2'), 1);
      assert.deepEqual(inside, [{ aside: 'cache load', page: undefined }]);
      assert.deepEqual(marked('bare-load'), ['cache load']);
      assert.equal(currentScope(), undefined, 'nothing left behind');
    });

    test("the outbox deliverer's turns are background work, also when a request kicks it", async () => {
      const delivered: number[] = [];
      const scopes: unknown[] = [];
      const deliverer = startDeliverer({
        db: store.db,
        pollMs: 60_000,
        subscribers: {
          'test.aside': async (e) => {
            scopes.push(currentScope());
            delivered.push(e.id);
          },
        },
      });
      try {
        // the first turn, at start, finds nothing due
        await waitFor(() => seen.some((s) => s.sql.includes('"outbox"')));
        await deliverer.runOnce();
        seen = [];
        const now = Date.now();
        await store.db.insertInto('outbox').values({ tenant_id: 'tenant-1', at: now, type: 'test.aside', payload: '{}', attempts: 0, next_attempt_at: now, delivered_at: null, failed_at: null, last_error: null }).execute();
        await asOneRequest(async () => deliverer.kick());
        await waitFor(() => delivered.length === 1 && seen.filter((s) => s.sql.includes('"outbox"')).length >= 3);
        const outbox = seen.filter((s) => s.sql.includes('"outbox"') && !s.sql.startsWith('insert'));
        assert.ok(outbox.some((s) => s.sql.startsWith('select')) && outbox.some((s) => s.sql.startsWith('update')), outbox.map((s) => s.sql).join('\n'));
        assert.deepEqual([...new Set(outbox.map((s) => s.aside))], ['background'], 'the poll, the claim and the mark');
        assert.deepEqual(marked('insert into "outbox"'), [undefined], "the request's own write is its own");
        assert.deepEqual(scopes, [{ aside: 'background' }], 'nothing of the kicking request (its page memo) carries over');
      } finally {
        await deliverer.stop();
      }
    });
  });
}
