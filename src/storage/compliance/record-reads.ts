/**
 * Compliance: reads of records with their winning bodies (`withWinningBodies`),
 * reads for the writer (`forUpdate`), and the bodies of revisions that stopped
 * being leaves as a document's history grows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatabaseStore, DocWrite } from '../engine.js';
import { body, docWrite, firstRevision, hash, linearTree, withDatabase, type EngineFactory } from './fixtures.js';

/** Generation `n` of a one-branch document `id` (hashes `id@1` … `id@n`, newest first). */
function chainHashes(id: string, generation: number): string[] {
  const hashes: string[] = [];
  for (let g = generation; g >= 1; g--) hashes.push(hash(`${id}@${g}`));
  return hashes;
}

/** The write that takes a one-branch document from generation `n - 1` to `n`. */
function chainWrite(id: string, generation: number, options: { removedRevs?: readonly string[]; keep?: number } = {}): DocWrite {
  const hashes = chainHashes(id, generation).slice(0, options.keep ?? generation);
  const rev = `${generation}-${hashes[0] as string}`;
  return docWrite({
    id,
    tree: linearTree(generation, hashes),
    winningRev: rev,
    newBodies: [body(rev, { id, generation })],
    removedRevs: options.removedRevs ?? [],
  });
}

function chainRev(id: string, generation: number): string {
  return `${generation}-${hash(`${id}@${generation}`)}`;
}

async function writeChain(store: DatabaseStore, id: string, generations: number): Promise<void> {
  for (let generation = 1; generation <= generations; generation++) await store.write({ docs: [chainWrite(id, generation)] });
}

export function registerRecordReadTests(factory: EngineFactory): void {
  test('withWinningBodies brings each record its winning body, from getDocs, scanDocs and changes', async () => {
    await withDatabase(factory, async ({ store }) => {
      await store.write({ docs: [firstRevision('a', { value: { a: 1 } }), firstRevision('b', { deleted: true, value: {} })] });
      await writeChain(store, 'c', 3);
      const winnerOfC = { rev: chainRev('c', 3), json: '{"id":"c","generation":3}', attachmentsJson: '{}' };
      const [a, missing, c] = await store.getDocs(['a', 'x', 'c'], { withWinningBodies: true });
      assert.equal(missing, undefined);
      assert.deepEqual(a?.winningBody, { rev: `1-${hash('a')}`, json: '{"a":1}', attachmentsJson: '{}' });
      assert.deepEqual(c?.winningBody, winnerOfC);
      assert.deepEqual(c?.tree, linearTree(3, chainHashes('c', 3)));
      const scanned = await store.scanDocs({ limit: 10, withWinningBodies: true });
      assert.deepEqual(
        scanned.map((record) => [record.id, record.winningBody?.json]),
        [
          ['a', '{"a":1}'],
          ['b', '{}'],
          ['c', winnerOfC.json],
        ],
      );
      const changed = await store.changes({ since: 0, limit: 10, withWinningBodies: true });
      assert.deepEqual(
        changed.map((record) => [record.id, record.winningBody?.rev]),
        [
          ['a', `1-${hash('a')}`],
          ['b', `1-${hash('b')}`],
          ['c', winnerOfC.rev],
        ],
      );
      // Without the option, no body comes along.
      const [plain] = await store.getDocs(['a']);
      assert.equal(plain?.winningBody, undefined);
      assert.equal((await store.scanDocs({ limit: 1 }))[0]?.winningBody, undefined);
      assert.equal((await store.changes({ since: 0, limit: 1 }))[0]?.winningBody, undefined);
    });
  });

  test('a winner whose body is not stored reads without winningBody', async () => {
    await withDatabase(factory, async ({ store }) => {
      // A replicated history known by ids only: the leaf has no body.
      const hashes = [hash('r@2'), hash('r@1')];
      await store.write({ docs: [docWrite({ id: 'r', tree: linearTree(2, hashes), winningRev: `2-${hashes[0] as string}` })] });
      const [record] = await store.getDocs(['r'], { withWinningBodies: true });
      assert.equal(record?.winningRev, `2-${hashes[0] as string}`);
      assert.equal(record?.winningBody, undefined);
    });
  });

  test('forUpdate reads the same records as a plain read, and a write after it applies', async () => {
    await withDatabase(factory, async ({ store }) => {
      await writeChain(store, 'd', 2);
      const [plain, absent] = await store.getDocs(['d', 'e']);
      const [forUpdate, absentForUpdate] = await store.getDocs(['d', 'e'], { forUpdate: true });
      assert.deepEqual(forUpdate, plain);
      assert.equal(absent, undefined);
      assert.equal(absentForUpdate, undefined);
      await store.write({ docs: [chainWrite('d', 3), firstRevision('e')] });
      const info = await store.info();
      assert.deepEqual([info.docCount, info.updateSeq], [2, 4]);
      assert.deepEqual((await store.getDocs(['d']))[0]?.tree, linearTree(3, chainHashes('d', 3)));
    });
  });

  test('bodies of revisions that stopped being leaves stay readable until compaction', async () => {
    await withDatabase(factory, async ({ store }) => {
      await writeChain(store, 'h', 6);
      const revs = [1, 2, 3, 4, 5, 6].map((generation) => chainRev('h', generation));
      const before = await store.getBodies('h', revs);
      assert.deepEqual([...before.keys()], revs);
      assert.equal(before.get(revs[2] as string)?.json, '{"id":"h","generation":3}');
      // Stemming drops revisions 1 and 2 with their bodies; 3 to 6 remain.
      await store.write({ docs: [chainWrite('h', 7, { keep: 5, removedRevs: [revs[0] as string, revs[1] as string] })] });
      const stemmed = await store.getBodies('h', [...revs, chainRev('h', 7)]);
      assert.deepEqual([...stemmed.keys()], [...revs.slice(2), chainRev('h', 7)]);
      await store.compact();
      const compacted = await store.getBodies('h', [...revs, chainRev('h', 7)]);
      assert.deepEqual([...compacted.keys()], [chainRev('h', 7)]);
      const [record] = await store.getDocs(['h'], { withWinningBodies: true });
      assert.equal(record?.winningBody?.rev, chainRev('h', 7));
    });
  });

  test('purging a document removes the bodies of all its revisions, inner ones too', async () => {
    await withDatabase(factory, async ({ store }) => {
      await writeChain(store, 'p', 3);
      await store.purge([{ id: 'p', record: null, purgedRevs: [chainRev('p', 3)] }]);
      // A document re-created under the same id does not see the old bodies.
      await writeChain(store, 'p', 1);
      const bodies = await store.getBodies('p', [1, 2, 3].map((generation) => chainRev('p', generation)));
      assert.deepEqual([...bodies.keys()], [chainRev('p', 1)]);
    });
  });
}
