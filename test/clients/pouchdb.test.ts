/**
 * Black-box: PouchDB 9 used as an HTTP client of Settee (pouchdb-core with the
 * http adapter), plus replication both ways between Settee and an in-memory
 * PouchDB, which drives `_changes`, `_revs_diff`, `_bulk_get`, `_bulk_docs`
 * with `new_edits:false` and `_local` checkpoints the way the PouchDB
 * replicator does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import PouchDB from 'pouchdb-core';
import HttpAdapter from 'pouchdb-adapter-http';
import MemoryAdapter from 'pouchdb-adapter-memory';
import Replication from 'pouchdb-replication';
import type { TestServer } from '../support/http.js';
import { startTestServer, testAdmin } from '../support/http.js';

PouchDB.plugin(HttpAdapter).plugin(MemoryAdapter).plugin(Replication);

interface Item {
  n?: number;
  title?: string;
}

interface PouchError {
  status?: number;
  name?: string;
  message?: string;
  reason?: string;
}

let server: TestServer;
const opened: Array<PouchDB.Database<Item>> = [];

before(async () => {
  server = await startTestServer();
});

after(async () => {
  for (const db of opened) await db.close().catch(() => undefined);
  await server.close();
});

let dbCounter = 0;
function remoteDb(prefix = 'pouch'): { name: string; db: PouchDB.Database<Item> } {
  dbCounter += 1;
  const name = `${prefix}-${process.pid}-${dbCounter}`;
  const db = new PouchDB<Item>(`${server.baseUrl}/${name}`, {
    auth: { username: testAdmin.name, password: testAdmin.password },
  });
  opened.push(db);
  return { name, db };
}

async function rejectsWith(promise: Promise<unknown>, expected: { status: number; name: string }): Promise<PouchError> {
  try {
    await promise;
  } catch (caught) {
    const error = caught as PouchError;
    assert.equal(error.status, expected.status, `status (${JSON.stringify(error)})`);
    assert.equal(error.name, expected.name, 'name');
    return error;
  }
  assert.fail(`expected ${expected.status} ${expected.name}`);
}

const revA = '1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const revB = '1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

/** Writes `c` with two conflicting leaves (revB wins) through new_edits=false. */
async function makeConflict(db: PouchDB.Database<Item>): Promise<void> {
  const result = await db.bulkDocs(
    [
      { _id: 'c', _rev: revA, n: 1 },
      { _id: 'c', _rev: revB, n: 2 },
    ],
    { new_edits: false },
  );
  assert.deepEqual(result, []);
}

describe('documents', () => {
  test('info creates the database on first use (GET 404 then PUT)', async () => {
    const { name, db } = remoteDb();
    const info = await db.info();
    assert.equal(info.db_name, name);
    assert.equal(info.doc_count, 0);
    const direct = await server.request({ path: `/${name}`, auth: 'admin' });
    assert.equal(direct.status, 200);
  });

  test('put, get, update, 409 on a stale rev, remove', async () => {
    const { db } = remoteDb();
    const created = await db.put({ _id: 'a', n: 1 });
    assert.equal(created.ok, true);
    assert.equal(created.id, 'a');
    const doc = await db.get('a');
    assert.deepEqual(doc, { _id: 'a', _rev: created.rev, n: 1 });
    const updated = await db.put({ ...doc, n: 2 });
    assert.match(updated.rev, /^2-/);
    await rejectsWith(db.put({ _id: 'a', _rev: created.rev, n: 3 }), { status: 409, name: 'conflict' });
    const withRevs = await db.get('a', { revs: true });
    assert.deepEqual(withRevs._revisions, { start: 2, ids: [updated.rev.slice(2), created.rev.slice(2)] });
    const withInfo = await db.get('a', { revs_info: true });
    assert.deepEqual(
      withInfo._revs_info?.map((entry) => entry.rev),
      [updated.rev, created.rev],
    );
    const removed = await db.remove('a', updated.rev);
    assert.equal(removed.ok, true);
    assert.match(removed.rev, /^3-/);
    const error = await rejectsWith(db.get('a'), { status: 404, name: 'not_found' });
    assert.equal(error.reason ?? error.message, 'deleted');
    await rejectsWith(db.get('never'), { status: 404, name: 'not_found' });
  });

  test('post generates an id', async () => {
    const { db } = remoteDb();
    const posted = await db.post({ n: 1 });
    assert.equal(posted.ok, true);
    assert.ok(posted.id.length > 0);
    assert.equal((await db.get(posted.id)).n, 1);
  });

  test('conflicts from bulkDocs new_edits=false: conflicts: true, open_revs: all', async () => {
    const { db } = remoteDb();
    await makeConflict(db);
    const winner = await db.get('c', { conflicts: true });
    assert.equal(winner._rev, revB);
    assert.equal(winner.n, 2);
    assert.deepEqual(winner._conflicts, [revA]);

    const leaves = await db.get('c', { open_revs: 'all' });
    const revs = leaves.map((leaf) => ('ok' in leaf ? leaf.ok._rev : 'missing')).sort();
    assert.deepEqual(revs, [revA, revB]);

    const chosen = await db.get('c', { open_revs: [revA, '1-cccccccccccccccccccccccccccccccc'] });
    assert.equal(chosen.length, 2);
    assert.ok(chosen.some((leaf) => 'ok' in leaf && leaf.ok._rev === revA && leaf.ok.n === 1));
    assert.ok(chosen.some((leaf) => 'missing' in leaf && leaf.missing === '1-cccccccccccccccccccccccccccccccc'));

    const loser = await db.get('c', { rev: revA });
    assert.equal(loser.n, 1);
  });

  test('bulkDocs: per-document results and conflicts', async () => {
    const { db } = remoteDb();
    const results = await db.bulkDocs([{ _id: 'x', n: 1 }, { _id: 'y', n: 2 }]);
    assert.deepEqual(results.map((row) => ('ok' in row ? row.ok : false)), [true, true]);
    const second = await db.bulkDocs([{ _id: 'x', n: 9 }]);
    const [row] = second;
    assert.ok(row && 'error' in row, JSON.stringify(second));
    assert.equal((row as PouchDB.ErrorRow).status, 409);
    assert.equal((row as PouchDB.ErrorRow).name, 'conflict');
  });
});

describe('allDocs', () => {
  test('include_docs, keys, startkey/endkey, descending, limit/skip', async () => {
    const { db } = remoteDb();
    await db.bulkDocs(['a', 'b', 'c', 'd', 'e'].map((id, index) => ({ _id: id, n: index })));
    const all = await db.allDocs();
    assert.equal(all.total_rows, 5);
    assert.deepEqual(all.rows.map((row) => row.id), ['a', 'b', 'c', 'd', 'e']);

    const docs = await db.allDocs({ include_docs: true, limit: 2, skip: 2 });
    assert.equal(docs.offset, 2);
    assert.deepEqual(docs.rows.map((row) => row.doc?.n), [2, 3]);

    const range = await db.allDocs({ startkey: 'b', endkey: 'd' });
    assert.deepEqual(range.rows.map((row) => row.id), ['b', 'c', 'd']);
    const descending = await db.allDocs({ descending: true, startkey: 'd', endkey: 'b' });
    assert.deepEqual(descending.rows.map((row) => row.id), ['d', 'c', 'b']);
    const last = await db.allDocs({ descending: true, limit: 1 });
    assert.deepEqual(last.rows.map((row) => row.id), ['e']);

    const removed = await db.get('b');
    await db.remove(removed);
    const byKeys = await db.allDocs({ keys: ['e', 'b', 'zz'], include_docs: true });
    const rows = byKeys.rows as unknown as Array<Record<string, unknown>>;
    assert.equal(rows.length, 3);
    assert.equal((rows[0]?.doc as Item).n, 4);
    assert.deepEqual((rows[1]?.value as { deleted: boolean }).deleted, true);
    assert.equal(rows[1]?.doc, null);
    assert.deepEqual(rows[2], { key: 'zz', error: 'not_found' });
  });
});

describe('changes', () => {
  test('since, limit, include_docs', async () => {
    const { db } = remoteDb();
    await db.bulkDocs([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 3 }]);
    const all = await db.changes();
    assert.deepEqual(all.results.map((row) => row.id), ['a', 'b', 'c']);
    const first = await db.changes({ limit: 1, include_docs: true });
    assert.equal(first.results.length, 1);
    assert.equal(first.results[0]?.doc?.n, 1);
    const rest = await db.changes({ since: first.last_seq });
    assert.deepEqual(rest.results.map((row) => row.id), ['b', 'c']);
    const updated = await db.get('a');
    await db.remove(updated);
    const afterDelete = await db.changes({ since: first.last_seq, include_docs: true });
    const deleted = afterDelete.results.find((row) => row.id === 'a');
    assert.equal(deleted?.deleted, true);
    assert.equal((deleted?.doc as { _deleted?: boolean } | undefined)?._deleted, true);
  });

  test('live changes deliver a new write, and cancel ends the feed', async () => {
    const { db } = remoteDb();
    await db.put({ _id: 'before', n: 0 });
    const seen: string[] = [];
    const feed = db.changes({ live: true, since: 'now', include_docs: true, heartbeat: 1000 });
    const complete = new Promise<void>((resolve, reject) => {
      feed.on('complete', () => resolve());
      feed.on('error', reject);
    });
    const firstChange = new Promise<void>((resolve) => {
      feed.on('change', (change) => {
        seen.push(change.id);
        resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await db.put({ _id: 'live', n: 1 });
    await withTimeout(firstChange, 5_000, 'no live change within 5 s');
    feed.cancel();
    await withTimeout(complete, 5_000, 'cancel did not complete the feed');
    assert.deepEqual(seen, ['live']);
  });
});

describe('replication protocol endpoints', () => {
  test('revsDiff and bulkGet', async () => {
    const { db } = remoteDb();
    const created = await db.put({ _id: 'r', n: 1 });
    const diff = await db.revsDiff({ r: [created.rev, '2-dddddddddddddddddddddddddddddddd'], other: ['1-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'] });
    assert.deepEqual(diff, {
      r: { missing: ['2-dddddddddddddddddddddddddddddddd'], possible_ancestors: [created.rev] },
      other: { missing: ['1-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'] },
    });
    const nothing = await db.revsDiff({ r: [created.rev] });
    assert.deepEqual(nothing, {});

    const got = await db.bulkGet({ docs: [{ id: 'r', rev: created.rev }, { id: 'missing' }], revs: true });
    assert.equal(got.results.length, 2);
    const [found, missing] = got.results;
    const foundDoc = found?.docs[0];
    assert.ok(foundDoc && 'ok' in foundDoc, JSON.stringify(found));
    assert.equal(foundDoc.ok._rev, created.rev);
    assert.deepEqual((foundDoc.ok as { _revisions?: unknown })._revisions, { start: 1, ids: [created.rev.slice(2)] });
    const missingDoc = missing?.docs[0];
    assert.ok(missingDoc && 'error' in missingDoc, JSON.stringify(missing));
  });

  test('replicate Settee → memory PouchDB and back, conflicts included', async () => {
    const { name, db: remote } = remoteDb('repl');
    await remote.bulkDocs(Array.from({ length: 25 }, (_unused, index) => ({ _id: `doc-${String(index).padStart(2, '0')}`, n: index })));
    await makeConflict(remote);
    const gone = await remote.put({ _id: 'gone', n: -1 });
    await remote.remove('gone', gone.rev);

    const local = new PouchDB<Item>(`local-${name}`, { adapter: 'memory' });
    opened.push(local);
    const pulled = await PouchDB.replicate(remote, local, { batch_size: 7 });
    assert.equal(pulled.ok, true);
    assert.equal(pulled.doc_write_failures, 0);
    // 25 docs, both leaves of `c`, the tombstone of `gone`
    assert.equal(pulled.docs_written, 28);
    const localConflict = await local.get('c', { conflicts: true });
    assert.equal(localConflict._rev, revB);
    assert.deepEqual(localConflict._conflicts, [revA]);
    await rejectsWith(local.get('gone'), { status: 404, name: 'not_found' });
    assert.equal((await local.info()).doc_count, 26);

    // a second run finds nothing new (checkpoint in _local on both sides)
    const again = await PouchDB.replicate(remote, local);
    assert.equal(again.docs_written, 0);

    // push local edits back: _revs_diff, then _bulk_docs new_edits=false
    const edited = await local.get('doc-03');
    await local.put({ ...edited, n: 300 });
    await local.put({ _id: 'from-local', n: 1 });
    const pushed = await PouchDB.replicate(local, remote);
    assert.equal(pushed.ok, true);
    assert.equal(pushed.docs_written, 2);
    assert.equal((await remote.get('doc-03')).n, 300);
    assert.equal((await remote.get('from-local')).n, 1);
    assert.deepEqual((await remote.get('c', { conflicts: true }))._conflicts, [revA]);
  });
});

describe('database lifecycle', () => {
  test('destroy removes the database', async () => {
    const { name, db } = remoteDb();
    await db.put({ _id: 'a' });
    const destroyed = await db.destroy();
    assert.equal(destroyed.ok, true);
    const direct = await server.request({ path: `/${name}`, auth: 'admin' });
    assert.equal(direct.status, 404);
  });

  test('credentials in the URL work as well as the auth option', async () => {
    const url = new URL(server.baseUrl);
    const name = `pouch-url-auth-${process.pid}`;
    const db = new PouchDB<Item>(`http://${testAdmin.name}:${testAdmin.password}@${url.host}/${name}`);
    opened.push(db);
    await db.put({ _id: 'via-url', n: 1 });
    assert.equal((await db.get('via-url')).n, 1);
    assert.equal((await db.info()).db_name, name);
  });

  test('wrong credentials are a 401', async () => {
    const db = new PouchDB<Item>(`${server.baseUrl}/pouch-denied-${process.pid}`, {
      auth: { username: testAdmin.name, password: 'wrong' },
      skip_setup: true,
    });
    opened.push(db);
    // (PouchDB's info() does not check the status, so ask for a document)
    await rejectsWith(db.get('anything'), { status: 401, name: 'unauthorized' });
    await rejectsWith(db.allDocs(), { status: 401, name: 'unauthorized' });
  });
});

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
