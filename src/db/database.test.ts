import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteEngine } from '../storage/sqlite-engine.js';
import { Couch } from './couch.js';
import type { Database } from './database.js';
import { docUpdateFromJson } from './document.js';
import { parseJson } from '../core/json-parse.js';
import { renderDoc } from './render.js';
import { parseRev } from '../core/rev.js';

async function freshDb(name = 'db'): Promise<{ couch: Couch; db: Database }> {
  const couch = new Couch({ engine: new SqliteEngine({ dataDir: ':memory:' }) });
  const db = await couch.createDatabase(name);
  return { couch, db };
}

async function put(db: Database, id: string, json: string, newEdits = true) {
  return db.updateDoc(docUpdateFromJson(parseJson(json), { id }), { newEdits });
}

test('revision ids match CouchDB for documented examples', async () => {
  const { couch, db } = await freshDb();
  const first = await put(db, 'c', '{"v":1}');
  assert.equal(first.rev, '1-7a7e4b29f3af401e69b6f86e4c26b727');
  const second = await put(db, 'c', `{"_rev":"${first.rev}","v":2}`);
  assert.equal(second.rev, '2-d0df861eb528e79690cd2ff3c4d394f3');
  const fresh = await put(db, 'fresh', '{"_rev":"1-23202479633c2b380f79507a776743d5","a":1}');
  assert.equal(fresh.rev, '2-28b0871b96782f88a644f93a6afa52bf');
  await couch.close();
});

test('stale, missing and unknown parents are 409 conflicts', async () => {
  const { couch, db } = await freshDb();
  const first = await put(db, 'c', '{"v":1}');
  await assert.rejects(put(db, 'c', '{"v":2}'), { status: 409, error: 'conflict' });
  await put(db, 'c', `{"_rev":"${first.rev}","v":2}`);
  await assert.rejects(put(db, 'c', `{"_rev":"${first.rev}","v":3}`), { status: 409 });
  await assert.rejects(put(db, 'c', '{"_rev":"9-00000000000000000000000000000000","v":3}'), { status: 409 });
  await assert.rejects(put(db, 'c', '{"_rev":"abc","v":3}'), { status: 400, reason: 'Invalid rev format' });
  await couch.close();
});

test('delete, read tombstone, and re-create on the deleted branch', async () => {
  const { couch, db } = await freshDb();
  const one = await put(db, 'd', '{"x":1}');
  assert.equal(one.rev, '1-0785e9eb543380151003dc452c3a001a');
  const two = await put(db, 'd', `{"_rev":"${one.rev}","_deleted":true}`);
  assert.equal(two.rev, '2-d0ae140c7f7cdb92dd85a3e31ae18f0c');
  await assert.rejects(db.getDoc('d'), { status: 404, reason: 'deleted' });
  await assert.rejects(db.getDoc('never'), { status: 404, reason: 'missing' });
  const tomb = await db.getDoc('d', { rev: parseRev(two.rev) });
  assert.equal(renderDoc(tomb), `{"_id":"d","_rev":"${two.rev}","_deleted":true}`);
  const three = await put(db, 'd', '{"x":2}');
  assert.equal(three.rev, '3-c6251bea3caf31d3e73e5cc232b4df06');
  const doc = await db.getDoc('d', { revs: true });
  assert.deepEqual(doc.revisions, {
    start: 3,
    ids: ['c6251bea3caf31d3e73e5cc232b4df06', 'd0ae140c7f7cdb92dd85a3e31ae18f0c', '0785e9eb543380151003dc452c3a001a'],
  });
  const info = await db.info();
  assert.equal(info.doc_count, 1);
  assert.equal(info.doc_del_count, 0);
  await couch.close();
});

test('replicated edits branch the tree; winner and conflicts are deterministic', async () => {
  const { couch, db } = await freshDb();
  await put(db, 'a', '{"_rev":"1-aaa","_revisions":{"start":2,"ids":["bbb","aaa"]},"n":1}', false);
  await put(db, 'a', '{"_revisions":{"start":2,"ids":["ccc","aaa"]},"n":2}', false);
  await put(db, 'a', '{"_revisions":{"start":3,"ids":["ddd","ccc","aaa"]},"_deleted":true}', false);
  const doc = await db.getDoc('a', { conflicts: true, deletedConflicts: true });
  assert.equal(doc.rev, '2-bbb');
  assert.equal(doc.conflicts, undefined);
  assert.deepEqual(doc.deletedConflicts, ['3-ddd']);
  // a known revision re-sent with a different body is a silent no-op
  await put(db, 'a', '{"_revisions":{"start":2,"ids":["bbb","aaa"]},"n":99}', false);
  const again = await db.getDoc('a');
  assert.equal(renderDoc(again), '{"_id":"a","_rev":"2-bbb","n":1}');
  const all = await db.openRevs('a', 'all');
  assert.deepEqual(
    all.map((entry) => ('ok' in entry ? entry.ok.rev : entry.missing)),
    ['2-bbb', '3-ddd'],
  );
  await couch.close();
});

test('group commit: concurrent writers all land with distinct sequences', async () => {
  const { couch, db } = await freshDb();
  const writes = Array.from({ length: 200 }, (_, i) => put(db, `doc${i}`, `{"i":${i}}`));
  const results = await Promise.all(writes);
  assert.equal(new Set(results.map((r) => r.rev)).size > 1, true);
  const info = await db.info();
  assert.equal(info.doc_count, 200);
  assert.equal(info.update_seq, 200);
  const page = await db.changes({ since: 0, limit: 1000 });
  assert.equal(page.rows.length, 200);
  assert.deepEqual(
    page.rows.map((row) => row.seq),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  await couch.close();
});

test('same-document contention: exactly one of N concurrent edits of one parent wins', async () => {
  const { couch, db } = await freshDb();
  const first = await put(db, 'hot', '{"n":0}');
  const settled = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => put(db, 'hot', `{"_rev":"${first.rev}","n":${i + 1}}`)),
  );
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
  assert.equal(settled.filter((s) => s.status === 'rejected').length, 19);
  await couch.close();
});

test('stemming at write time keeps revs_limit ids', async () => {
  const { couch, db } = await freshDb();
  await db.setRevsLimit(3);
  let rev = (await put(db, 's', '{"n":0}')).rev;
  const firstRev = rev;
  for (let i = 1; i < 7; i++) rev = (await put(db, 's', `{"_rev":"${rev}","n":${i}}`)).rev;
  const doc = await db.getDoc('s', { revs: true });
  assert.equal(doc.revisions?.ids.length, 3);
  await assert.rejects(db.getDoc('s', { rev: parseRev(firstRev) }), { status: 404 });
  await couch.close();
});

test('changes wait resolves on the next commit', async () => {
  const { couch, db } = await freshDb();
  const waiting = db.waitForChange(0, 5000);
  await put(db, 'x', '{}');
  assert.equal(await waiting, true);
  assert.equal(await db.waitForChange(db.currentSeq, 20), false);
  await couch.close();
});

test('all_docs skips deleted documents and reports offset', async () => {
  const { couch, db } = await freshDb();
  for (const id of ['a', 'b', 'c', 'd']) await put(db, id, '{}');
  const c = await db.getDoc('c');
  await put(db, 'c', `{"_rev":"${c.rev}","_deleted":true}`);
  const all = await db.allDocs({ limit: 100, skip: 0 });
  assert.deepEqual(all.records.map((r) => r.id), ['a', 'b', 'd']);
  assert.equal(all.totalRows, 3);
  const from = await db.allDocs({ startKey: 'b', limit: 1, skip: 1 });
  assert.deepEqual(from.records.map((r) => r.id), ['d']);
  assert.equal(from.offset, 2);
  await couch.close();
});

test('revs_diff lists missing revisions and possible ancestors', async () => {
  const { couch, db } = await freshDb();
  const one = await put(db, 'r', '{"v":1}');
  const diff = await db.revsDiff(
    new Map([
      ['r', [parseRev(one.rev), parseRev('2-abc')]],
      ['nope', [parseRev('1-x')]],
    ]),
  );
  assert.deepEqual(diff.get('r'), { missing: ['2-abc'], possible_ancestors: [one.rev] });
  assert.deepEqual(diff.get('nope'), { missing: ['1-x'] });
  await couch.close();
});

test('purge removes a leaf and promotes the other', async () => {
  const { couch, db } = await freshDb();
  await put(db, 'p', '{"_revisions":{"start":1,"ids":["aaa"]}}', false);
  await put(db, 'p', '{"_revisions":{"start":1,"ids":["bbb"]}}', false);
  const before = await db.getDoc('p');
  assert.equal(before.rev, '1-bbb');
  const result = await db.purge(new Map([['p', ['1-bbb', '1-zzz']]]));
  assert.deepEqual(result.purged.get('p'), ['1-bbb']);
  assert.equal((await db.getDoc('p')).rev, '1-aaa');
  await db.purge(new Map([['p', ['1-aaa']]]));
  await assert.rejects(db.getDoc('p'), { status: 404, reason: 'missing' });
  await couch.close();
});

test('compaction drops non-leaf bodies but keeps the tree', async () => {
  const { couch, db } = await freshDb();
  const one = await put(db, 'k', '{"v":1}');
  await put(db, 'k', `{"_rev":"${one.rev}","v":2}`);
  await db.getDoc('k', { rev: parseRev(one.rev) });
  await db.compact();
  await assert.rejects(db.getDoc('k', { rev: parseRev(one.rev) }), { status: 404 });
  const doc = await db.getDoc('k', { revsInfo: true });
  assert.deepEqual(doc.revsInfo?.map((r) => r.status), ['available', 'missing']);
  await couch.close();
});

test('document key order survives integer-like keys (hash and output)', async () => {
  const { couch, db } = await freshDb();
  const result = await put(db, 'k', '{"b":1,"0":2,"_rev":"1-0123456789abcdef0123456789abcdef","10":3}');
  const doc = await db.getDoc('k');
  assert.equal(renderDoc(doc), `{"_id":"k","_rev":"${result.rev}","b":1,"0":2,"10":3}`);
  await couch.close();
});
