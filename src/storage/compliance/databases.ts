/** Compliance: the engine's database catalogue (create, list, open, delete). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProperties, firstRevision, rejectsWith, withEngine, type EngineFactory } from './fixtures.js';

export function registerDatabaseTests(factory: EngineFactory): void {
  test('create, exists, open; missing is 404, existing is 412', async () => {
    await withEngine(factory, async ({ engine }) => {
      assert.equal(await engine.databaseExists('alpha'), false);
      await rejectsWith(engine.openDatabase('alpha'), 404, 'not_found');
      await rejectsWith(engine.deleteDatabase('alpha'), 404, 'not_found');
      await engine.createDatabase('alpha', defaultProperties);
      assert.equal(await engine.databaseExists('alpha'), true);
      await rejectsWith(engine.createDatabase('alpha', defaultProperties), 412, 'file_exists');
      const store = await engine.openDatabase('alpha');
      assert.equal(store.name, 'alpha');
      await store.close();
    });
  });

  test('a new database is empty and keeps its creation properties', async () => {
    await withEngine(factory, async ({ engine }) => {
      const before = Date.now() * 1000;
      const properties = { revsLimit: 7, securityJson: '{"admins":{"names":["a"]}}', purgedInfosLimit: 9 };
      await engine.createDatabase('fresh', properties);
      const store = await engine.openDatabase('fresh');
      const info = await store.info();
      assert.equal(info.updateSeq, 0);
      assert.equal(info.purgeSeq, 0);
      assert.equal(info.docCount, 0);
      assert.equal(info.docDelCount, 0);
      assert.match(info.uuid, /^[0-9a-f]{32}$/);
      assert.ok(info.createdAtMicros >= before - 60_000_000 && info.createdAtMicros <= Date.now() * 1000 + 60_000_000);
      assert.ok(info.fileBytes >= 0 && info.activeBytes >= 0);
      assert.deepEqual(await store.properties(), properties);
      assert.deepEqual(await store.changes({ since: 0, limit: 10 }), []);
      assert.deepEqual(await store.scanDocs({ limit: 10 }), []);
      assert.deepEqual(await store.getDocs(['x']), [undefined]);
      assert.deepEqual(await store.purgedInfos(), []);
      await engine.createDatabase('other', defaultProperties);
      const other = await (await engine.openDatabase('other')).info();
      assert.notEqual(other.uuid, info.uuid);
    });
  });

  test('listDatabases sorts by code point and honours ranges, descending, limit and skip', async () => {
    await withEngine(factory, async ({ engine }) => {
      const names = ['b', 'a-b', 'a/b', 'a$', 'a(1)', 'a+b', 'a_b', '_users', '_replicator', 'a', 'z9', 'a/b/c'];
      for (const name of names) await engine.createDatabase(name, defaultProperties);
      const sorted = [...names].sort();
      assert.deepEqual(await engine.listDatabases(), sorted);
      assert.deepEqual(await engine.listDatabases({ descending: true }), [...sorted].reverse());
      assert.deepEqual(await engine.listDatabases({ startKey: 'a', endKey: 'a_b' }), sorted.filter((n) => n >= 'a' && n <= 'a_b'));
      assert.deepEqual(
        await engine.listDatabases({ startKey: 'a', endKey: 'a_b', inclusiveEnd: false }),
        sorted.filter((n) => n >= 'a' && n < 'a_b'),
      );
      assert.deepEqual(
        await engine.listDatabases({ startKey: 'a_b', endKey: 'a', descending: true }),
        sorted.filter((n) => n >= 'a' && n <= 'a_b').reverse(),
      );
      assert.deepEqual(
        await engine.listDatabases({ startKey: 'a_b', endKey: 'a', descending: true, inclusiveEnd: false }),
        sorted.filter((n) => n > 'a' && n <= 'a_b').reverse(),
      );
      assert.deepEqual(await engine.listDatabases({ limit: 3, skip: 2 }), sorted.slice(2, 5));
      assert.deepEqual(await engine.listDatabases({ limit: 0 }), []);
      assert.deepEqual(await engine.listDatabases({ descending: true, skip: 10 }), [...sorted].reverse().slice(10));
      assert.deepEqual(await engine.listDatabases({ startKey: 'zz' }), []);
    });
  });

  test('deleteDatabase removes the data; a recreated database starts empty', async () => {
    await withEngine(factory, async ({ engine }) => {
      await engine.createDatabase('gone', defaultProperties);
      const store = await engine.openDatabase('gone');
      await store.write({ docs: [firstRevision('doc')] });
      await store.putLocal({ id: '_local/x', rev: 1, json: '{}' });
      const oldUuid = (await store.info()).uuid;
      await engine.deleteDatabase('gone');
      assert.equal(await engine.databaseExists('gone'), false);
      assert.deepEqual(await engine.listDatabases(), []);
      await rejectsWith(engine.openDatabase('gone'), 404, 'not_found');
      await engine.createDatabase('gone', defaultProperties);
      const again = await engine.openDatabase('gone');
      const info = await again.info();
      assert.equal(info.updateSeq, 0);
      assert.equal(info.docCount, 0);
      assert.notEqual(info.uuid, oldUuid);
      assert.deepEqual(await again.getDocs(['doc']), [undefined]);
      assert.equal(await again.getLocal('_local/x'), undefined);
    });
  });

  test('a handle on a deleted database rejects with 404, even after the name is reused', async () => {
    await withEngine(factory, async ({ engine }) => {
      await engine.createDatabase('held', defaultProperties);
      const held = await engine.openDatabase('held');
      await held.write({ docs: [firstRevision('doc')] });
      await engine.deleteDatabase('held');
      await rejectsWith(held.info(), 404, 'not_found');
      await rejectsWith(held.getDocs(['doc']), 404, 'not_found');
      await rejectsWith(held.write({ docs: [firstRevision('other')] }), 404, 'not_found');
      await rejectsWith(held.putLocal({ id: '_local/a', rev: 1, json: '{}' }), 404, 'not_found');
      assert.equal(await engine.databaseExists('held'), false, 'a rejected call must not recreate the database');
      await engine.createDatabase('held', defaultProperties);
      await rejectsWith(held.info(), 404, 'not_found');
      await rejectsWith(held.write({ docs: [firstRevision('other')] }), 404, 'not_found');
      const fresh = await engine.openDatabase('held');
      assert.equal((await fresh.info()).updateSeq, 0);
    });
  });

  test('databases are independent', async () => {
    await withEngine(factory, async ({ engine }) => {
      await engine.createDatabase('one', defaultProperties);
      await engine.createDatabase('two', defaultProperties);
      const one = await engine.openDatabase('one');
      const two = await engine.openDatabase('two');
      await one.write({ docs: [firstRevision('a'), firstRevision('b')] });
      await two.write({ docs: [firstRevision('c')] });
      assert.equal((await one.info()).updateSeq, 2);
      assert.equal((await two.info()).updateSeq, 1);
      assert.deepEqual((await two.scanDocs({ limit: 10 })).map((record) => record.id), ['c']);
      const again = await engine.openDatabase('one');
      assert.deepEqual((await again.scanDocs({ limit: 10 })).map((record) => record.id), ['a', 'b']);
    });
  });
}
