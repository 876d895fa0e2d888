/**
 * Black-box: the official CouchDB client, nano 11, against a Settee started as
 * a child process by its CLI (`--admin admin:password`). Every expectation is
 * CouchDB 3.4.3's behaviour as nano sees it; raw byte-level checks go through
 * `inject` because nano parses JSON.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Nano from 'nano';
import type { ChildServer } from '../support/child-server.js';
import { childAdmin, startChildServer } from '../support/child-server.js';
import type { InjectOptions, InjectResponse } from '../support/http.js';
import { inject } from '../support/http.js';

interface Counter {
  count?: number;
  a?: number;
  n?: number;
  title?: string;
}

interface NanoError {
  statusCode?: number;
  error?: string;
  reason?: string;
  scope?: string;
}

let server: ChildServer;
let couch: Nano.ServerScope;
const adminCredentials = `${childAdmin.name}:${childAdmin.password}`;

function raw(options: InjectOptions): Promise<InjectResponse> {
  return inject(server.baseUrl, { auth: adminCredentials, ...options });
}

/** Asserts that `promise` rejects with nano's error shape for a CouchDB error. */
async function rejectsWith(promise: Promise<unknown>, expected: { statusCode: number; error: string; reason?: string }): Promise<NanoError> {
  try {
    await promise;
  } catch (caught) {
    const error = caught as NanoError;
    assert.equal(error.statusCode, expected.statusCode, `statusCode (${JSON.stringify(error)})`);
    assert.equal(error.error, expected.error, 'error');
    if (expected.reason !== undefined) assert.equal(error.reason, expected.reason, 'reason');
    assert.equal(error.scope, 'couch');
    return error;
  }
  assert.fail(`expected a ${expected.statusCode} ${expected.error}`);
}

let dbCounter = 0;
/** A fresh database per test, so tests do not depend on each other. */
async function freshDb<D extends object = Counter>(prefix = 'nano'): Promise<{ name: string; db: Nano.DocumentScope<D> }> {
  dbCounter += 1;
  const name = `${prefix}-${process.pid}-${dbCounter}`;
  await couch.db.create(name);
  return { name, db: couch.use<D>(name) };
}

before(async () => {
  server = await startChildServer();
  couch = Nano(server.adminUrl);
});

after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, `settee exit code; stderr: ${server.stderr()}`);
});

describe('server', () => {
  test('info, uuids', async () => {
    const info = (await couch.info()) as unknown as { couchdb: string; version: string };
    assert.equal(info.couchdb, 'Welcome');
    assert.equal(info.version, '3.4.3');
    const uuids = await couch.uuids(3);
    assert.equal(uuids.uuids.length, 3);
    for (const uuid of uuids.uuids) assert.match(uuid, /^[0-9a-f]{32}$/);
    assert.equal(new Set(uuids.uuids).size, 3);
  });

  test('cookie auth: nano.auth stores AuthSession, session() reports it', async () => {
    const anonymous = Nano(server.baseUrl);
    await rejectsWith(anonymous.db.list(), { statusCode: 401, error: 'unauthorized' });
    const login = await anonymous.auth(childAdmin.name, childAdmin.password);
    assert.equal(login.ok, true);
    assert.equal(login.name, childAdmin.name);
    assert.ok(login.roles.includes('_admin'));
    const session = await anonymous.session();
    assert.equal(session.userCtx.name, childAdmin.name);
    assert.equal(session.info.authenticated, 'cookie');
    // the cookie now authorizes admin-only calls
    const names = await anonymous.db.list();
    assert.ok(Array.isArray(names));
    // a wrong password is 401 with CouchDB's reason
    const stranger = Nano(server.baseUrl);
    await rejectsWith(stranger.auth(childAdmin.name, 'wrong'), {
      statusCode: 401,
      error: 'unauthorized',
      reason: 'Name or password is incorrect.',
    });
  });
});

describe('databases', () => {
  test('create, list, get, destroy', async () => {
    const name = `nano-dbs-${process.pid}`;
    const created = await couch.db.create(name);
    assert.equal(created.ok, true);
    await rejectsWith(couch.db.create(name), {
      statusCode: 412,
      error: 'file_exists',
      reason: 'The database could not be created, the file already exists.',
    });
    assert.ok((await couch.db.list()).includes(name));
    const info = await couch.db.get(name);
    assert.equal(info.db_name, name);
    assert.equal(info.doc_count, 0);
    assert.equal(info.doc_del_count, 0);
    // opaque token: Settee's are integers (docs/http-api.md), CouchDB 3's strings
    assert.ok(['string', 'number'].includes(typeof info.update_seq), String(info.update_seq));
    assert.equal((await couch.db.destroy(name)).ok, true);
    assert.ok(!(await couch.db.list()).includes(name));
    await rejectsWith(couch.db.get(name), { statusCode: 404, error: 'not_found', reason: 'Database does not exist.' });
    await rejectsWith(couch.db.destroy(name), { statusCode: 404, error: 'not_found' });
  });

  test('an illegal name is 400 illegal_database_name', async () => {
    await rejectsWith(couch.db.create('Bad Name'), { statusCode: 400, error: 'illegal_database_name' });
  });
});

describe('documents', () => {
  test('insert with and without id, get, update, revs_info', async () => {
    const { db } = await freshDb();
    const posted = await db.insert({ count: 1 });
    assert.equal(posted.ok, true);
    assert.match(posted.id, /^[0-9a-f]{32}$/);
    assert.equal(posted.rev, '1-74620ecf527d29daaab9c2b465fbce66');

    const put = await db.insert({ a: 1 }, 'with-id');
    assert.deepEqual(put, { ok: true, id: 'with-id', rev: '1-23202479633c2b380f79507a776743d5' });

    const fetched = await db.get('with-id');
    assert.deepEqual(fetched, { _id: 'with-id', _rev: put.rev, a: 1 });

    const updated = await db.insert({ _id: 'with-id', _rev: put.rev, a: 2 });
    assert.match(updated.rev, /^2-[0-9a-f]{32}$/);

    const withInfo = await db.get('with-id', { revs_info: true });
    assert.deepEqual(withInfo._revs_info, [
      { rev: updated.rev, status: 'available' },
      { rev: put.rev, status: 'available' },
    ]);
    const withRevs = (await db.get('with-id', { revs: true })) as unknown as { _revisions: { start: number; ids: string[] } };
    assert.deepEqual(withRevs._revisions, { start: 2, ids: [updated.rev.slice(2), put.rev.slice(2)] });

    const old = await db.get('with-id', { rev: put.rev });
    assert.equal(old.a, 1);
  });

  test('a stale rev is 409 conflict with nano error fields', async () => {
    const { db } = await freshDb();
    const first = await db.insert({ n: 1 }, 'doc');
    await db.insert({ _id: 'doc', _rev: first.rev, n: 2 });
    const error = await rejectsWith(db.insert({ _id: 'doc', _rev: first.rev, n: 3 }), {
      statusCode: 409,
      error: 'conflict',
      reason: 'Document update conflict.',
    });
    assert.equal(error.scope, 'couch');
    // no rev on an existing doc: also 409
    await rejectsWith(db.insert({ n: 4 }, 'doc'), { statusCode: 409, error: 'conflict' });
    // a malformed rev is 400
    await rejectsWith(db.insert({ _id: 'doc', _rev: 'abc', n: 5 }), {
      statusCode: 400,
      error: 'bad_request',
      reason: 'Invalid rev format',
    });
    await rejectsWith(db.get('nope'), { statusCode: 404, error: 'not_found', reason: 'missing' });
  });

  test('destroy, then get says deleted; head gives the etag', async () => {
    const { db } = await freshDb();
    const created = await db.insert({ n: 1 }, 'gone');
    const head = await db.head('gone');
    assert.equal(head.etag, `"${created.rev}"`);
    const destroyed = await db.destroy('gone', created.rev);
    assert.equal(destroyed.ok, true);
    assert.equal(destroyed.id, 'gone');
    assert.match(destroyed.rev, /^2-/);
    await rejectsWith(db.get('gone'), { statusCode: 404, error: 'not_found', reason: 'deleted' });
    await rejectsWith(db.destroy('gone', destroyed.rev), { statusCode: 404, error: 'not_found', reason: 'deleted' });
    const tombstone = await db.get('gone', { rev: destroyed.rev });
    assert.deepEqual(tombstone, { _id: 'gone', _rev: destroyed.rev, _deleted: true });
  });

  test('conflicts: bulk new_edits=false makes them, get conflicts=true lists them', async () => {
    const { db } = await freshDb();
    const written = await db.bulk(
      {
        docs: [
          { _id: 'c', _rev: '1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', n: 1 },
          { _id: 'c', _rev: '1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', n: 2 },
        ],
        new_edits: false,
      } as unknown as Nano.BulkModifyDocsWrapper,
    );
    assert.deepEqual(written, []);
    const doc = await db.get('c', { conflicts: true });
    assert.equal(doc._rev, '1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
    assert.equal(doc.n, 2);
    assert.deepEqual(doc._conflicts, ['1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']);
    const plain = await db.get('c');
    assert.equal(plain._conflicts, undefined);
  });
});

describe('bulk, list, fetch', () => {
  test('bulk: normal mode answers per-document results, including conflicts', async () => {
    const { db } = await freshDb();
    const results = await db.bulk({ docs: [{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { n: 3 }] });
    assert.equal(results.length, 3);
    assert.deepEqual(results.map((row) => (row as { ok?: boolean }).ok), [true, true, true]);
    assert.deepEqual(results.slice(0, 2).map((row) => row.id), ['a', 'b']);
    const again = await db.bulk({ docs: [{ _id: 'a', n: 9 }] });
    assert.deepEqual(again, [{ id: 'a', error: 'conflict', reason: 'Document update conflict.' }]);
    const info = await db.info();
    assert.equal(info.doc_count, 3);
  });

  test('list: include_docs, keys, startkey/endkey, descending, limit/skip', async () => {
    const { db } = await freshDb();
    await db.bulk({ docs: ['a', 'b', 'c', 'd', 'e'].map((id, index) => ({ _id: id, n: index })) });
    const all = await db.list();
    assert.equal(all.total_rows, 5);
    assert.equal(all.offset, 0);
    assert.deepEqual(all.rows.map((row) => row.id), ['a', 'b', 'c', 'd', 'e']);
    assert.match(all.rows[0]?.value.rev ?? '', /^1-/);

    const withDocs = await db.list({ include_docs: true, limit: 2, skip: 1 });
    assert.equal(withDocs.offset, 1);
    assert.deepEqual(withDocs.rows.map((row) => row.doc?.n), [1, 2]);

    const range = await db.list({ startkey: 'b', endkey: 'd' });
    assert.deepEqual(range.rows.map((row) => row.key), ['b', 'c', 'd']);
    const exclusive = await db.list({ startkey: 'b', endkey: 'd', inclusive_end: false });
    assert.deepEqual(exclusive.rows.map((row) => row.key), ['b', 'c']);
    const backwards = await db.list({ descending: true, limit: 2 });
    assert.deepEqual(backwards.rows.map((row) => row.key), ['e', 'd']);

    const byKeys = await db.list({ keys: ['c', 'zz', 'a'] });
    assert.equal(byKeys.offset, null);
    assert.deepEqual(
      byKeys.rows.map((row) => ('error' in row ? `${row.key}:${String((row as { error: string }).error)}` : row.key)),
      ['c', 'zz:not_found', 'a'],
    );
  });

  test('fetch (POST _all_docs include_docs) reports deleted and missing docs', async () => {
    const { db } = await freshDb();
    const [first] = await db.bulk({ docs: [{ _id: 'x', n: 1 }, { _id: 'y', n: 2 }] });
    await db.destroy('x', first?.rev ?? '');
    const fetched = await db.fetch({ keys: ['y', 'x', 'nope'] });
    assert.equal(fetched.rows.length, 3);
    const [y, x, nope] = fetched.rows as unknown as Array<Record<string, unknown>>;
    assert.equal((y?.doc as { n: number }).n, 2);
    assert.deepEqual((x?.value as { deleted: boolean }).deleted, true);
    assert.equal(x?.doc, null);
    assert.deepEqual(nope, { key: 'nope', error: 'not_found' });
  });
});

describe('changes', () => {
  test('normal feed, since, include_docs, limit', async () => {
    const { db } = await freshDb();
    await db.bulk({ docs: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] });
    const feed = await db.changes();
    assert.deepEqual(feed.results.map((row) => row.id), ['a', 'b', 'c']);
    assert.ok(['string', 'number'].includes(typeof feed.last_seq), String(feed.last_seq));
    const limited = await db.changes({ limit: 1, include_docs: true });
    assert.equal(limited.results.length, 1);
    assert.equal((limited.results[0] as unknown as { doc: { _id: string } }).doc._id, 'a');
    assert.equal(limited.pending, 2);
    const since = await db.changes({ since: limited.last_seq });
    assert.deepEqual(since.results.map((row) => row.id), ['b', 'c']);
  });

  test('longpoll waits for the next change', async () => {
    const { db } = await freshDb();
    const now = await db.changes();
    const pending = db.changes({ feed: 'longpoll', since: now.last_seq, timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await db.insert({ n: 1 }, 'late');
    const result = await pending;
    assert.deepEqual(result.results.map((row) => row.id), ['late']);
    // with nothing new the longpoll ends at its timeout with no rows
    const started = Date.now();
    const empty = await db.changes({ feed: 'longpoll', since: result.last_seq, timeout: 300 });
    assert.deepEqual(empty.results, []);
    assert.ok(Date.now() - started >= 250, 'longpoll returned before its timeout');
  });

  test('changesReader.get drains the feed in batches', async () => {
    const { db } = await freshDb();
    await db.bulk({ docs: Array.from({ length: 7 }, (_unused, index) => ({ _id: `d${index}` })) });
    const ids: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const reader = db.changesReader.get({ since: '0', batchSize: 3, timeout: 300 });
      reader.on('batch', (batch: Array<{ id: string }>) => ids.push(...batch.map((row) => row.id)));
      reader.on('end', () => resolve());
      reader.on('error', reject);
    });
    assert.deepEqual(ids.sort(), ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });
});

describe('attachments', () => {
  test('multipart.insert uploads attachments that follow the document; an update keeps one as a stub', async () => {
    const { db } = await freshDb<{ title: string; _attachments?: Record<string, unknown> }>('nano-mp');
    const pixel = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x2d, 0x2d]);
    const created = await db.multipart.insert(
      { title: 'with files' },
      [
        { name: 'hello.txt', data: 'hello from nano', content_type: 'text/plain' },
        { name: 'pixel.png', data: pixel, content_type: 'image/png' },
      ],
      'withfiles',
    );
    assert.equal(created.ok, true);
    assert.equal((await db.attachment.get('withfiles', 'hello.txt')).toString(), 'hello from nano');
    assert.ok((await db.attachment.get('withfiles', 'pixel.png')).equals(pixel));
    const updated = await db.multipart.insert(
      { title: 'more files', _rev: created.rev, _attachments: { 'hello.txt': { stub: true } } } as never,
      [{ name: 'more.txt', data: 'and more', content_type: 'text/plain' }],
      'withfiles',
    );
    assert.match(updated.rev, /^2-/);
    const doc = await db.get('withfiles');
    const attachments = doc._attachments as Record<string, { revpos: number }>;
    assert.deepEqual(Object.keys(attachments).sort(), ['hello.txt', 'more.txt']);
    assert.equal(attachments['hello.txt']?.revpos, 1);
    assert.equal(attachments['more.txt']?.revpos, 2);
    assert.equal((await db.attachment.get('withfiles', 'more.txt')).toString(), 'and more');
  });
});

describe('raw requests', () => {
  test('nano.request reaches arbitrary endpoints', async () => {
    const { name } = await freshDb();
    const created = await couch.request({ db: name, doc: 'r1', method: 'PUT', body: { via: 'request' } });
    assert.equal(created.ok, true);
    const fetched = await couch.request({ db: name, doc: 'r1', qs: { revs: true } });
    assert.equal(fetched.via, 'request');
    assert.equal(fetched._revisions.start, 1);
    const revsDiff = await couch.request({
      db: name,
      path: '_revs_diff',
      method: 'POST',
      body: { r1: [created.rev, '2-cccccccccccccccccccccccccccccccc'] },
    });
    assert.deepEqual(revsDiff, {
      r1: { missing: ['2-cccccccccccccccccccccccccccccccc'], possible_ancestors: [created.rev] },
    });
    const security = await couch.request({ db: name, path: '_security' });
    assert.deepEqual(security, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } });
  });

  test('numbers keep their spelling: 1.0 stays 1.0 in raw responses', async () => {
    const { name } = await freshDb();
    const put = await raw({
      method: 'PUT',
      path: `/${name}/num`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"f":1.0,"e":1e3,"big":18446744073709551616,"neg":-0.0,"tiny":1e-7}',
    });
    assert.equal(put.status, 201, put.text);
    const expected = '"f":1.0,"e":1000.0,"big":18446744073709551616,"neg":0.0,"tiny":1e-7';
    const get = await raw({ path: `/${name}/num` });
    assert.ok(get.text.includes(expected), get.text);
    const allDocs = await raw({ path: `/${name}/_all_docs?include_docs=true` });
    assert.ok(allDocs.text.includes(expected), allDocs.text);
    const changes = await raw({ path: `/${name}/_changes?include_docs=true` });
    assert.ok(changes.text.includes(expected), changes.text);
    // nano itself sees a JS number (1.0 === 1): nothing breaks on its side
    const viaNano = await couch.use<{ f: number }>(name).get('num');
    assert.equal(viaNano.f, 1);
  });
});
