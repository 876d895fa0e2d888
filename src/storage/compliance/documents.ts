/** Compliance: document records, bodies, the id and sequence indexes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatabaseStore, DocRecord } from '../engine.js';
import {
  body,
  compareCodePoints,
  docWrite,
  firstRevision,
  hash,
  linearTree,
  node,
  withDatabase,
  type EngineFactory,
} from './fixtures.js';

const ids = (records: readonly (DocRecord | undefined)[]): (string | undefined)[] => records.map((record) => record?.id);

/** Writes revision 2 of a document created by `firstRevision`. */
async function update(store: DatabaseStore, id: string, options: { deleted?: boolean; label?: string } = {}) {
  const second = hash(options.label ?? `${id}@2`);
  const rev = `2-${second}`;
  return store.write({
    docs: [
      docWrite({
        id,
        tree: linearTree(2, [second, hash(id)], options.deleted ?? false),
        winningRev: rev,
        deleted: options.deleted ?? false,
        newBodies: [body(rev, { id, generation: 2 })],
      }),
    ],
  });
}

export function registerDocumentTests(factory: EngineFactory): void {
  test('write stores records and bodies; getDocs and getBodies read them back', async () => {
    await withDatabase(factory, async ({ store }) => {
      const result = await store.write({ docs: [firstRevision('a', { value: { x: 1 } }), firstRevision('b')] });
      assert.deepEqual(result, { seqs: [1, 2], updateSeq: 2 });
      const [a, missing, b] = await store.getDocs(['a', 'nope', 'b']);
      assert.equal(missing, undefined);
      assert.deepEqual(a, {
        id: 'a',
        tree: linearTree(1, [hash('a')]),
        winningRev: `1-${hash('a')}`,
        deleted: false,
        seq: 1,
      });
      assert.equal(b?.seq, 2);
      const bodies = await store.getBodies('a', [`1-${hash('a')}`, '9-missing']);
      assert.deepEqual([...bodies.keys()], [`1-${hash('a')}`]);
      assert.deepEqual(bodies.get(`1-${hash('a')}`), { rev: `1-${hash('a')}`, json: '{"x":1}', attachmentsJson: '{}' });
      assert.equal((await store.getBodies('nope', ['1-x'])).size, 0);
    });
  });

  test('bodies and attachment metadata round-trip exactly, unicode included', async () => {
    await withDatabase(factory, async ({ store }) => {
      const json = '{"s":"é\\u0000 \u{1F600} \\ud800","n":1.50,"big":12345678901234567890}';
      const attachmentsJson = '{"a.txt":{"content_type":"text/plain","digest":"md5-x","length":3,"revpos":1,"stub":true}}';
      const rev = `1-${hash('u')}`;
      await store.write({ docs: [docWrite({ id: 'ü/\u{1F600}', tree: linearTree(1, [hash('u')]), winningRev: rev, newBodies: [{ rev, json, attachmentsJson }] })] });
      const stored = (await store.getBodies('ü/\u{1F600}', [rev])).get(rev);
      assert.deepEqual(stored, { rev, json, attachmentsJson });
    });
  });

  test('sequences are assigned in batch order from updateSeq + 1; an empty batch changes nothing', async () => {
    await withDatabase(factory, async ({ store }) => {
      assert.deepEqual(await store.write({ docs: [] }), { seqs: [], updateSeq: 0 });
      await store.write({ docs: [firstRevision('c'), firstRevision('a'), firstRevision('b')] });
      const result = await update(store, 'c');
      assert.deepEqual(result, { seqs: [4], updateSeq: 4 });
      assert.deepEqual(await store.write({ docs: [] }), { seqs: [], updateSeq: 4 });
      const batch = await store.write({ docs: [firstRevision('d'), firstRevision('e')] });
      assert.deepEqual(batch, { seqs: [5, 6], updateSeq: 6 });
      assert.equal((await store.info()).updateSeq, 6);
      const [c] = await store.getDocs(['c']);
      assert.equal(c?.seq, 4);
      assert.equal(c?.winningRev, `2-${hash('c@2')}`);
    });
  });

  test('doc counts follow create, update, delete and undelete; activeBytes tracks live data', async () => {
    await withDatabase(factory, async ({ store }) => {
      const counts = async () => {
        const info = await store.info();
        return [info.docCount, info.docDelCount];
      };
      await store.write({ docs: [firstRevision('a'), firstRevision('b'), firstRevision('c', { deleted: true })] });
      assert.deepEqual(await counts(), [2, 1]);
      const activeAfterCreate = (await store.info()).activeBytes;
      assert.ok(activeAfterCreate > 0);
      await update(store, 'a');
      assert.deepEqual(await counts(), [2, 1]);
      await update(store, 'b', { deleted: true });
      assert.deepEqual(await counts(), [1, 2]);
      // Undelete: a new live revision on top of the tombstone.
      const third = hash('b@3');
      await store.write({
        docs: [
          docWrite({
            id: 'b',
            tree: linearTree(3, [third, hash('b@2'), hash('b')]),
            winningRev: `3-${third}`,
            newBodies: [body(`3-${third}`, { big: 'x'.repeat(5000) })],
          }),
        ],
      });
      assert.deepEqual(await counts(), [2, 1]);
      assert.ok((await store.info()).activeBytes > activeAfterCreate + 4000);
      // A losing conflict leaves the winner (and the counts) alone.
      const conflict = hash('a-conflict');
      await store.write({
        docs: [
          docWrite({
            id: 'a',
            tree: [{ pos: 1, node: node(hash('a'), [node(hash('a@2')), node(conflict)]) }],
            winningRev: `2-${hash('a@2')}`,
            newBodies: [body(`2-${conflict}`)],
          }),
        ],
      });
      assert.deepEqual(await counts(), [2, 1]);
      const [a] = await store.getDocs(['a']);
      assert.equal(a?.tree[0]?.node.children.length, 2);
      assert.equal((await store.getBodies('a', [`2-${conflict}`, `2-${hash('a@2')}`])).size, 2);
    });
  });

  test('rewriting an existing body is harmless; removedRevs are never read back as present in the tree', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.write({ docs: [firstRevision('a', { value: { v: 1 } })] });
      await store.write({ docs: [firstRevision('a', { value: { v: 1 } })] });
      const [a] = await store.getDocs(['a']);
      assert.equal(a?.seq, 2);
      assert.equal((await store.info()).docCount, 1);
      const second = hash('a@2');
      await store.write({
        docs: [
          docWrite({
            id: 'a',
            tree: linearTree(2, [second]),
            winningRev: `2-${second}`,
            newBodies: [body(`2-${second}`)],
            removedRevs: [`1-${hash('a')}`],
          }),
        ],
      });
      const [stemmed] = await store.getDocs(['a']);
      assert.deepEqual(stemmed?.tree, linearTree(2, [second]));
      assert.equal((await store.getBodies('a', [`2-${second}`])).size, 1);
    });
  });

  test('scanDocs walks ids in code-point order with ranges, descending, inclusiveEnd, skip and limit', async () => {
    await withDatabase(factory, async ({ store }) => {
      const all = ['a', 'b', 'Z', '_design/x', '_design/y', 'é', '~', '\uFB01', '\u{1F600}', '\u{10FFFF}', 'a b', 'aa', 'c'];
      await store.write({ docs: all.map((id) => firstRevision(id, { deleted: id === 'b' })) });
      const sorted = [...all].sort(compareCodePoints);
      const scan = async (options: Parameters<DatabaseStore['scanDocs']>[0]) => ids(await store.scanDocs(options));
      assert.deepEqual(await scan({ limit: 100 }), sorted);
      assert.deepEqual(await scan({ limit: 100, descending: true }), [...sorted].reverse());
      // The BMP/astral boundary is where UTF-16 order and code-point order differ.
      assert.ok(sorted.indexOf('\uFB01') < sorted.indexOf('\u{1F600}'));
      const within = (low: string, high: string, lowInclusive: boolean, highInclusive: boolean) =>
        sorted.filter((id) => {
          const aboveLow = lowInclusive ? compareCodePoints(id, low) >= 0 : compareCodePoints(id, low) > 0;
          const belowHigh = highInclusive ? compareCodePoints(id, high) <= 0 : compareCodePoints(id, high) < 0;
          return aboveLow && belowHigh;
        });
      assert.deepEqual(await scan({ limit: 100, startKey: '_design/', endKey: '_design0' }), ['_design/x', '_design/y']);
      assert.deepEqual(await scan({ limit: 100, startKey: 'a', endKey: 'é' }), within('a', 'é', true, true));
      assert.deepEqual(await scan({ limit: 100, startKey: 'a', endKey: 'é', inclusiveEnd: false }), within('a', 'é', true, false));
      assert.deepEqual(await scan({ limit: 100, startKey: '~', endKey: '\u{1F600}' }), within('~', '\u{1F600}', true, true));
      assert.deepEqual(
        await scan({ limit: 100, startKey: 'é', endKey: 'a', descending: true }),
        within('a', 'é', true, true).reverse(),
      );
      assert.deepEqual(
        await scan({ limit: 100, startKey: 'é', endKey: 'a', descending: true, inclusiveEnd: false }),
        within('a', 'é', false, true).reverse(),
      );
      assert.deepEqual(await scan({ limit: 3, skip: 2 }), sorted.slice(2, 5));
      assert.deepEqual(await scan({ limit: 2, skip: 1, descending: true }), [...sorted].reverse().slice(1, 3));
      assert.deepEqual(await scan({ limit: 0 }), []);
      assert.deepEqual(await scan({ limit: 100, startKey: 'b', endKey: 'a' }), []);
      const [deleted] = await store.scanDocs({ limit: 1, startKey: 'b' });
      assert.equal(deleted?.deleted, true, 'deleted documents are included');
    });
  });

  test('countDocsBefore counts live ids before (after, descending) a key', async () => {
    await withDatabase(factory, async ({ store }) => {
      const all = ['a', 'b', 'c', 'é', '\u{1F600}', '\uFB01', 'd-deleted'];
      await store.write({ docs: all.map((id) => firstRevision(id, { deleted: id === 'a' || id === 'd-deleted' })) });
      assert.equal(await store.countDocsBefore('a', false), 0);
      assert.equal(await store.countDocsBefore('b', false), 0, 'a tombstone is not counted');
      assert.equal(await store.countDocsBefore('bb', false), 1);
      assert.equal(await store.countDocsBefore('c', false), 1, 'strictly before');
      assert.equal(await store.countDocsBefore('\u{1F600}', false), 4);
      assert.equal(await store.countDocsBefore('\uFB01', false), 3);
      assert.equal(await store.countDocsBefore('c', true), 3);
      assert.equal(await store.countDocsBefore('', true), 5);
      assert.equal(await store.countDocsBefore('\u{10FFFF}', false), 5);
      await update(store, 'b', { deleted: true });
      assert.equal(await store.countDocsBefore('\u{10FFFF}', false), 4);
    });
  });

  test('changes lists each document once at its latest seq, with since, descending and limit', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.write({ docs: [firstRevision('a'), firstRevision('b'), firstRevision('c')] });
      await update(store, 'a'); // seq 4
      await update(store, 'b', { deleted: true }); // seq 5
      const view = (records: DocRecord[]) => records.map((record) => [record.id, record.seq, record.deleted]);
      assert.deepEqual(view(await store.changes({ since: 0, limit: 10 })), [
        ['c', 3, false],
        ['a', 4, false],
        ['b', 5, true],
      ]);
      assert.deepEqual(view(await store.changes({ since: 3, limit: 10 })), [
        ['a', 4, false],
        ['b', 5, true],
      ]);
      assert.deepEqual(view(await store.changes({ since: 0, limit: 2 })), [
        ['c', 3, false],
        ['a', 4, false],
      ]);
      assert.deepEqual(view(await store.changes({ since: 5, limit: 10 })), []);
      assert.deepEqual(view(await store.changes({ since: 0, descending: true, limit: 10 })), [
        ['b', 5, true],
        ['a', 4, false],
        ['c', 3, false],
      ]);
      assert.deepEqual(view(await store.changes({ since: 5, descending: true, limit: 1 })), [['a', 4, false]]);
      assert.deepEqual(view(await store.changes({ since: 3, descending: true, limit: 10 })), []);
      assert.deepEqual(
        await Promise.all([0, 3, 4, 5, 9].map((since) => store.countChanges(since))),
        [3, 2, 1, 0, 0],
      );
      const [latest] = await store.changes({ since: 4, limit: 1 });
      assert.deepEqual(latest?.tree, linearTree(2, [hash('b@2'), hash('b')], true));
      assert.equal(latest?.winningRev, `2-${hash('b@2')}`);
    });
  });

  test('reads running during writes see only committed state', async () => {
    await withDatabase(factory, async ({ store }) => {
      const batches = 40;
      const acknowledged: string[] = [];
      let writing = true;
      const writer = (async () => {
        // One writer at a time, as db/ guarantees; each batch adds two documents.
        for (let index = 0; index < batches; index += 1) {
          const pair = [`doc${String(index).padStart(3, '0')}a`, `doc${String(index).padStart(3, '0')}b`];
          await store.write({ docs: pair.map((id) => firstRevision(id)) });
          acknowledged.push(...pair);
        }
        writing = false;
      })();
      const reader = async () => {
        let reads = 0;
        while (writing || reads === 0) {
          const known = [...acknowledged];
          const info = await store.info();
          assert.equal(info.docCount, info.updateSeq, 'counts and seq from one committed state');
          assert.equal(info.updateSeq % 2, 0, 'a batch is visible whole or not at all');
          const records = await store.getDocs(known);
          assert.ok(records.every((record) => record !== undefined), 'acknowledged writes are visible');
          const changes = await store.changes({ since: 0, limit: 1000 });
          assert.equal(changes.length % 2, 0);
          reads += 1;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        return reads;
      };
      const [, readsA, readsB] = await Promise.all([writer, reader(), reader()]);
      assert.ok(readsA > 0 && readsB > 0);
      assert.equal((await store.info()).docCount, batches * 2);
    });
  });
}
