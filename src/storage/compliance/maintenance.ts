/** Compliance: local documents, properties, purge, compaction and persistence. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  body,
  defaultProperties,
  docWrite,
  firstRevision,
  hash,
  linearTree,
  node,
  withDatabase,
  withEngine,
  type EngineFactory,
} from './fixtures.js';
import type { DatabaseStore } from '../engine.js';

/** A document `id` with two conflicting branches (2-a wins over 2-b) and all three bodies stored. */
async function writeConflicted(store: DatabaseStore, id: string): Promise<{ root: string; winner: string; loser: string }> {
  const root = `1-${hash(id)}`;
  const winner = `2-${hash(`${id}:b`)}`;
  const loser = `2-${hash(`${id}:a`)}`;
  await store.write({
    docs: [
      docWrite({
        id,
        tree: [{ pos: 1, node: node(hash(id), [node(hash(`${id}:a`)), node(hash(`${id}:b`))]) }],
        winningRev: winner,
        newBodies: [body(root), body(loser), body(winner)],
      }),
    ],
  });
  return { root, winner, loser };
}

export function registerMaintenanceTests(factory: EngineFactory): void {
  test('local documents: put, get, replace, scan in id order, delete', async () => {
    await withDatabase(factory, async ({ store }) => {
      assert.equal(await store.getLocal('_local/a'), undefined);
      await store.putLocal({ id: '_local/b', rev: 1, json: '{"x":1}' });
      await store.putLocal({ id: '_local/a', rev: 1, json: '{}' });
      await store.putLocal({ id: '_local/\u{1F600}', rev: 1, json: '{}' });
      await store.putLocal({ id: '_local/\uFB01', rev: 1, json: '{}' });
      await store.putLocal({ id: '_local/b', rev: 2, json: '{"x":2}' });
      assert.deepEqual(await store.getLocal('_local/b'), { id: '_local/b', rev: 2, json: '{"x":2}' });
      const order = ['_local/a', '_local/b', '_local/\uFB01', '_local/\u{1F600}'];
      assert.deepEqual((await store.scanLocals({ limit: 10 })).map((doc) => doc.id), order);
      assert.deepEqual((await store.scanLocals({ limit: 10, descending: true })).map((doc) => doc.id), [...order].reverse());
      assert.deepEqual(
        (await store.scanLocals({ limit: 10, startKey: '_local/b', endKey: '_local/\uFB01', inclusiveEnd: false })).map((doc) => doc.id),
        ['_local/b'],
      );
      assert.deepEqual((await store.scanLocals({ limit: 1, skip: 1 })).map((doc) => doc.id), ['_local/b']);
      assert.equal(await store.deleteLocal('_local/b'), true);
      assert.equal(await store.deleteLocal('_local/b'), false);
      assert.equal(await store.getLocal('_local/b'), undefined);
      const info = await store.info();
      assert.equal(info.updateSeq, 0, 'local documents do not touch the sequence');
      assert.equal(info.docCount, 0, 'nor the document count');
      assert.deepEqual(await store.scanDocs({ limit: 10 }), []);
    });
  });

  test('setProperties replaces only the given properties', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.setProperties({ revsLimit: 5 });
      assert.deepEqual(await store.properties(), { ...defaultProperties, revsLimit: 5 });
      await store.setProperties({ securityJson: '{"members":{"roles":["r"]}}', purgedInfosLimit: 3 });
      assert.deepEqual(await store.properties(), {
        revsLimit: 5,
        securityJson: '{"members":{"roles":["r"]}}',
        purgedInfosLimit: 3,
      });
      await store.setProperties({});
      assert.equal((await store.properties()).revsLimit, 5);
      assert.equal((await store.info()).updateSeq, 0);
    });
  });

  test('purge rewrites a record at a new seq and drops the purged bodies', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.write({ docs: [firstRevision('other')] });
      const { root, winner, loser } = await writeConflicted(store, 'doc');
      const result = await store.purge([
        {
          id: 'doc',
          record: docWrite({ id: 'doc', tree: linearTree(2, [hash('doc:a'), hash('doc')]), winningRev: loser }),
          purgedRevs: [winner],
        },
      ]);
      assert.deepEqual(result, { purgeSeq: 1, updateSeq: 3 });
      const [record] = await store.getDocs(['doc']);
      assert.equal(record?.seq, 3);
      assert.equal(record?.winningRev, loser);
      assert.deepEqual(record?.tree, linearTree(2, [hash('doc:a'), hash('doc')]));
      const bodies = await store.getBodies('doc', [root, winner, loser]);
      assert.equal(bodies.has(winner), false);
      assert.equal(bodies.has(loser), true);
      const info = await store.info();
      assert.deepEqual([info.updateSeq, info.purgeSeq, info.docCount, info.docDelCount], [3, 1, 2, 0]);
      assert.deepEqual((await store.changes({ since: 0, limit: 10 })).map((r) => [r.id, r.seq]), [
        ['other', 1],
        ['doc', 3],
      ]);
      assert.deepEqual(await store.purgedInfos(), [{ purgeSeq: 1, id: 'doc', revs: [winner] }]);
    });
  });

  test('purge removes a record entirely from both indexes and the counts', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.write({ docs: [firstRevision('a'), firstRevision('b', { deleted: true }), firstRevision('c')] });
      const result = await store.purge([
        { id: 'a', record: null, purgedRevs: [`1-${hash('a')}`] },
        { id: 'b', record: null, purgedRevs: [`1-${hash('b')}`] },
      ]);
      assert.equal(result.purgeSeq, 2);
      assert.deepEqual(await store.getDocs(['a', 'b', 'c']).then((records) => records.map((r) => r?.id)), [undefined, undefined, 'c']);
      assert.deepEqual((await store.scanDocs({ limit: 10 })).map((r) => r.id), ['c']);
      assert.deepEqual((await store.changes({ since: 0, limit: 10 })).map((r) => r.id), ['c']);
      assert.equal(await store.countDocsBefore('z', false), 1);
      assert.equal((await store.getBodies('a', [`1-${hash('a')}`])).size, 0);
      const info = await store.info();
      assert.deepEqual([info.purgeSeq, info.docCount, info.docDelCount], [2, 1, 0]);
      // Three writes, then a purge of removals only: the sequence moves by one.
      assert.deepEqual([result.updateSeq, info.updateSeq], [4, 4]);
      assert.deepEqual(await store.purgedInfos(), [
        { purgeSeq: 1, id: 'a', revs: [`1-${hash('a')}`] },
        { purgeSeq: 2, id: 'b', revs: [`1-${hash('b')}`] },
      ]);
      // A purged id can be written afresh.
      const rewrite = await store.write({ docs: [firstRevision('a')] });
      assert.equal(rewrite.seqs[0], rewrite.updateSeq);
      assert.equal((await store.info()).docCount, 2);
    });
  });

  test('purged infos keep at most purgedInfosLimit entries, the newest', async () => {
    await withDatabase(
      factory,
      async ({ store }) => {
        const names = ['a', 'b', 'c', 'd'];
        await store.write({ docs: names.map((id) => firstRevision(id)) });
        for (const id of names.slice(0, 3)) await store.purge([{ id, record: null, purgedRevs: [`1-${hash(id)}`] }]);
        assert.deepEqual((await store.purgedInfos()).map((info) => [info.purgeSeq, info.id]), [
          [2, 'b'],
          [3, 'c'],
        ]);
        await store.setProperties({ purgedInfosLimit: 1 });
        await store.purge([{ id: 'd', record: null, purgedRevs: [`1-${hash('d')}`] }]);
        assert.deepEqual((await store.purgedInfos()).map((info) => [info.purgeSeq, info.id]), [[4, 'd']]);
        assert.equal((await store.info()).purgeSeq, 4);
      },
      { ...defaultProperties, purgedInfosLimit: 2 },
    );
  });

  test('compact drops non-leaf bodies and keeps leaf bodies, trees and indexes', async () => {
    await withDatabase(factory, async ({ store }) => {
      const { root, winner, loser } = await writeConflicted(store, 'conflicted');
      // A linear history whose every revision's body was stored along the way.
      const hashes = [hash('l1'), hash('l2'), hash('l3')];
      for (let generation = 1; generation <= 3; generation += 1) {
        const rev = `${generation}-${hashes[generation - 1]}`;
        await store.write({
          docs: [
            docWrite({
              id: 'linear',
              tree: linearTree(generation, hashes.slice(0, generation).reverse(), generation === 3),
              winningRev: rev,
              deleted: generation === 3,
              newBodies: [body(rev, { filler: 'y'.repeat(20_000) })],
            }),
          ],
        });
      }
      await store.write({ docs: [firstRevision('single')] });
      const before = await store.info();
      const recordsBefore = await store.scanDocs({ limit: 10 });
      await store.compact();
      const after = await store.info();
      assert.deepEqual(await store.scanDocs({ limit: 10 }), recordsBefore);
      assert.deepEqual(
        [after.updateSeq, after.docCount, after.docDelCount],
        [before.updateSeq, before.docCount, before.docDelCount],
      );
      const conflicted = await store.getBodies('conflicted', [root, winner, loser]);
      assert.deepEqual([...conflicted.keys()].sort(), [loser, winner].sort());
      const linear = await store.getBodies('linear', hashes.map((h, index) => `${index + 1}-${h}`));
      assert.deepEqual([...linear.keys()], [`3-${hashes[2]}`], 'the tombstone leaf keeps its body');
      assert.equal((await store.getBodies('single', [`1-${hash('single')}`])).size, 1);
      await store.compact(); // idempotent
      assert.equal((await store.getBodies('conflicted', [winner])).size, 1);
    });
  });

  test('everything survives closing and reopening the engine', async (context) => {
    await withEngine(factory, async (fixture) => {
      if (!fixture.engine.capabilities.persistent) {
        context.skip('capabilities.persistent is false');
        return;
      }
      assert.ok(fixture.reopen, 'a persistent engine fixture must provide reopen()');
      const engine = fixture.engine;
      await engine.createDatabase('kept', { revsLimit: 3, securityJson: '{"a":1}', purgedInfosLimit: 5 });
      await engine.createDatabase('also/kept', defaultProperties);
      const store = await engine.openDatabase('kept');
      const { winner, loser } = await writeConflicted(store, 'doc');
      await store.write({ docs: [firstRevision('gone'), firstRevision('tomb', { deleted: true })] });
      await store.purge([{ id: 'gone', record: null, purgedRevs: [`1-${hash('gone')}`] }]);
      await store.putLocal({ id: '_local/check', rev: 4, json: '{"seq":1}' });
      const info = await store.info();
      const changes = await store.changes({ since: 0, limit: 10 });

      const reopened = await fixture.reopen();
      assert.deepEqual(await reopened.listDatabases(), ['also/kept', 'kept']);
      const again = await reopened.openDatabase('kept');
      const infoAgain = await again.info();
      assert.deepEqual({ ...infoAgain, fileBytes: 0 }, { ...info, fileBytes: 0 });
      assert.deepEqual(await again.properties(), { revsLimit: 3, securityJson: '{"a":1}', purgedInfosLimit: 5 });
      assert.deepEqual(await again.changes({ since: 0, limit: 10 }), changes);
      assert.equal((await again.getBodies('doc', [winner, loser])).size, 2);
      assert.deepEqual(await again.getLocal('_local/check'), { id: '_local/check', rev: 4, json: '{"seq":1}' });
      assert.deepEqual((await again.purgedInfos()).map((p) => p.id), ['gone']);
      const next = await again.write({ docs: [firstRevision('new')] });
      assert.equal(next.updateSeq, info.updateSeq + 1);
    });
  });

  test('close resolves and releases the engine', async () => {
    const fixture = await factory();
    try {
      await fixture.engine.createDatabase('x', defaultProperties);
      const store = await fixture.engine.openDatabase('x');
      await store.write({ docs: [firstRevision('a')] });
      await store.close();
      await fixture.engine.close();
    } finally {
      await fixture.cleanup();
    }
  });
}
