/**
 * Incremental view indexes over a real (in-memory) database: edits, deletes,
 * conflicts, purges, design documents, snapshots, the index cache's bounds,
 * and a seeded property that an index updated step by step equals one built
 * from scratch. Replay a failure with `SETTEE_SEED=<seed> node scripts/run-tests.mjs views/view-index`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';
import { parseJson } from '../core/json-parse.js';
import { stringifyJson } from '../core/json-write.js';
import type { JsonObject } from '../core/json-value.js';
import { Couch } from '../db/couch.js';
import type { Database } from '../db/database.js';
import { docUpdateFromJson } from '../db/document.js';
import { SqliteEngine } from '../storage/sqlite-engine.js';
import { readDesign } from './design.js';
import { ViewIndexes } from './index-cache.js';
import { bringUpToDate } from './index-updater.js';
import { ViewIndex } from './view-index.js';

async function freshDb(name = 'db'): Promise<{ couch: Couch; db: Database }> {
  const couch = new Couch({ engine: new SqliteEngine({ dataDir: ':memory:' }) });
  return { couch, db: await couch.createDatabase(name) };
}

async function put(db: Database, id: string, json: string, newEdits = true): Promise<string> {
  return (await db.updateDoc(docUpdateFromJson(parseJson(json), { id }), { newEdits })).rev;
}

const design = (views: JsonObject, extra: JsonObject = {}) => readDesign('_design/d', { views, ...extra });
const options = { timeoutMs: 1000, log: () => undefined };
const update = { pageRowsMax: 2 };

/** The rows of a view as compact JSON `[id, key, value]` triples. */
function rowsOf(index: ViewIndex, name: string): string {
  const view = index.design.views.get(name);
  assert.ok(view, name);
  return stringifyJson(index.rows(view).map((row) => [row.id, row.key, row.value]));
}

test('edits re-map, deletes drop rows, conflicts show in the mapped document', async () => {
  const { couch, db } = await freshDb();
  const index = new ViewIndex(
    design({
      byK: { map: 'function(doc){ if (doc.k) emit(doc.k, doc.v); }' },
      conflicts: { map: 'function(doc){ if (doc._conflicts) emit(doc._id, doc._conflicts.length); }' },
    }),
    options,
  );
  const a1 = await put(db, 'a', '{"k":"x","v":1}');
  await put(db, 'b', '{"k":"w","v":2}');
  await put(db, 'c', '{"nothing":true}');
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'byK'), '[["b","w",2],["a","x",1]]');
  const a2 = await put(db, 'a', `{"_rev":"${a1}","k":"y","v":1.5}`);
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'byK'), '[["b","w",2],["a","y",1.5]]');
  await put(db, 'a', `{"_rev":"${a2}","_deleted":true}`);
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'byK'), '[["b","w",2]]');
  await put(db, 'b', '{"_rev":"1-ffffffffffffffffffffffffffffffff","k":"z","v":3}', false);
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'byK'), '[["b","z",3]]');
  assert.equal(rowsOf(index, 'conflicts'), '[["b","b",1]]');
  assert.equal(index.updateSeq, db.currentSeq);
  await couch.close();
});

test('design documents are mapped only with include_design; snapshots never change', async () => {
  const { couch, db } = await freshDb();
  await put(db, '_design/x', '{"views":{}}');
  await put(db, 'a', '{}');
  const plain = new ViewIndex(design({ all: { map: 'function(doc){ emit(doc._id, null); }' } }), options);
  const withDesign = new ViewIndex(design({ all: { map: 'function(doc){ emit(doc._id, null); }' } }, { options: { include_design: true } }), options);
  await bringUpToDate(plain, db, update);
  await bringUpToDate(withDesign, db, update);
  assert.equal(rowsOf(plain, 'all'), '[["a","a",null]]');
  assert.equal(rowsOf(withDesign, 'all'), '[["_design/x","_design/x",null],["a","a",null]]');
  const view = plain.design.views.get('all');
  assert.ok(view);
  const before = plain.rows(view);
  await put(db, 'b', '{}');
  await bringUpToDate(plain, db, update);
  assert.equal(before.length, 1);
  assert.equal(plain.rows(view).length, 2);
  await couch.close();
});

test('purged documents leave the index', async () => {
  const { couch, db } = await freshDb();
  const index = new ViewIndex(design({ all: { map: 'function(doc){ emit(doc._id, null); }' } }), options);
  const rev = await put(db, 'gone', '{}');
  await put(db, 'kept', '{}');
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'all'), '[["gone","gone",null],["kept","kept",null]]');
  await db.purge(new Map([['gone', [rev]]]));
  await bringUpToDate(index, db, update);
  assert.equal(rowsOf(index, 'all'), '[["kept","kept",null]]');
  await couch.close();
});

test('views with the same map function share rows; reduce views get reducers', async () => {
  const shared = design({
    a: { map: 'function(doc){ emit(doc._id, 1); }' },
    b: { map: 'function(doc){ emit(doc._id, 1); }', reduce: '_count' },
    c: { map: 'function(doc){ emit(doc._id, 2); }', reduce: 'function(k, v){ return sum(v); }' },
  });
  assert.equal(shared.mapSources.length, 2);
  const index = new ViewIndex(shared, options);
  const view = (name: string) => shared.views.get(name) as NonNullable<ReturnType<typeof shared.views.get>>;
  assert.equal(index.reducer(view('a')), undefined);
  assert.equal(typeof index.reducer(view('b')), 'function');
  assert.equal(typeof index.reducer(view('c')), 'function');
  // the signature follows the view definitions, not the rest of the document
  assert.equal(readDesign('_design/d', { views: { a: { map: 'function(doc){}' } }, other: 1 }).signature, readDesign('_design/d', { views: { a: { map: 'function(doc){}' } } }).signature);
  assert.notEqual(readDesign('_design/d', { views: { a: { map: 'function(doc){}' } } }).signature, readDesign('_design/d', { views: { a: { map: 'function(doc) {}' } } }).signature);
});

test('the index cache: LRU bounds on indexes and rows, new signatures replace old ones, update modes', async () => {
  const { couch, db } = await freshDb();
  for (let i = 0; i < 5; i++) await put(db, `d${i}`, '{}');
  const indexes = new ViewIndexes({ indexesMax: 2, rowsMax: 12, timeoutMs: 1000, pageRowsMax: 2, log: () => undefined });
  const named = (name: string, map = 'function(doc){ emit(doc._id, null); }') => readDesign(`_design/${name}`, { views: { v: { map } } });
  const first = await indexes.open(db, named('one'), 'true');
  assert.equal(first.rowCount, 5);
  await indexes.open(db, named('two'), 'true');
  assert.equal(indexes.size, 2);
  await indexes.open(db, named('three'), 'true'); // evicts "one" (least recently used); rows 10 ≤ 12
  assert.equal(indexes.size, 2);
  const info = await db.store.info();
  assert.equal(indexes.peek(info.uuid, named('one')), undefined);
  assert.notEqual(indexes.peek(info.uuid, named('three')), undefined);
  // a new signature for "three" replaces its old index
  await indexes.open(db, named('three', 'function(doc){ emit(doc._id, 1); emit(doc._id, 2); }'), 'true');
  assert.equal(indexes.peek(info.uuid, named('three')), undefined);
  // 10 rows alone exceed nothing, but with "two" (5) the row bound (12) drops "two"
  assert.equal(indexes.size, 1);
  assert.equal(indexes.rowCount, 10);
  // update=false answers from the index as it is (once built); lazy catches up afterwards
  const stale = await indexes.open(db, named('two'), 'false');
  assert.equal(stale.rowCount, 5);
  await put(db, 'd9', '{}');
  assert.equal((await indexes.open(db, named('two'), 'false')).rowCount, 5);
  const lazy = await indexes.open(db, named('two'), 'lazy');
  assert.equal(lazy.rowCount, 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(lazy.rowCount, 6);
  assert.equal((await indexes.open(db, named('two'), 'true')).rowCount, 6);
  await couch.close();
});

test('a database created again under the same name gets a new index', async () => {
  const { couch, db } = await freshDb('again');
  await put(db, 'old', '{}');
  const indexes = new ViewIndexes({ indexesMax: 10, rowsMax: 1000, timeoutMs: 1000, pageRowsMax: 10, log: () => undefined });
  const definition = readDesign('_design/d', { views: { v: { map: 'function(doc){ emit(doc._id, null); }' } } });
  assert.equal((await indexes.open(db, definition, 'true')).rowCount, 1);
  await couch.deleteDatabase('again');
  const recreated = await couch.createDatabase('again');
  await put(recreated, 'new', '{}');
  const index = await indexes.open(recreated, definition, 'true');
  assert.equal(rowsOf(index, 'v'), '[["new","new",null]]');
  await couch.close();
});

test('property: an index updated after every step equals one built at the end', async () => {
  const seed = seedFromEnv();
  const random = createPrng(seed);
  const { couch, db } = await freshDb();
  const views = {
    v: { map: 'function(doc){ if (doc.k !== undefined) emit(doc.k, doc.n); if (doc.n % 3 === 0) emit([doc.n, doc._id], null); }' },
  };
  const incremental = new ViewIndex(design(views), options);
  const revs = new Map<string, string>();
  const keys = ['"a"', '"A"', '"b"', '1', '1.0', '[1]', 'null', '{"x":1}'];
  for (let step = 0; step < 60; step++) {
    const id = `doc${Math.floor(random() * 12)}`;
    const rev = revs.get(id);
    const deleting = rev !== undefined && random() < 0.25;
    const body = deleting
      ? `{"_rev":"${rev}","_deleted":true}`
      : `{${rev === undefined ? '' : `"_rev":"${rev}",`}"k":${keys[Math.floor(random() * keys.length)]},"n":${Math.floor(random() * 10)}}`;
    const written = await put(db, id, body);
    if (deleting) revs.delete(id);
    else revs.set(id, written);
    if (random() < 0.4) await bringUpToDate(incremental, db, update);
  }
  await bringUpToDate(incremental, db, update);
  const scratch = new ViewIndex(design(views), options);
  await bringUpToDate(scratch, db, { pageRowsMax: 1000 });
  assert.equal(rowsOf(incremental, 'v'), rowsOf(scratch, 'v'), `replay with SETTEE_SEED=${seed}`);
  await couch.close();
});
