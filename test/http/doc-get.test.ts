/** GET/HEAD of documents: revisions, metadata, ETags, open_revs, redirects. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { createDb, errorOf, h, putDoc, putReplicated } from './doc-support.js';

let server: TestServer;
let db: string;
let rev1: string;
let rev2: string;

before(async () => {
  server = await startTestServer();
  db = await createDb(server, 'docget');
  rev1 = await putDoc(server, `/${db}/d`, '{"v":1,"f":1.0,"big":9007199254740993}');
  rev2 = await putDoc(server, `/${db}/d`, `{"_rev":"${rev1}","v":2,"f":1.0,"big":9007199254740993}`);
  // a doc with two live leaves and one deleted leaf
  await putReplicated(server, db, 'c', `1-${h('1')}`, [h('1')], { v: 'root' });
  await putReplicated(server, db, 'c', `2-${h('a')}`, [h('a'), h('1')], { v: 'a' });
  await putReplicated(server, db, 'c', `2-${h('b')}`, [h('b'), h('1')], { v: 'b' });
  await putReplicated(server, db, 'c', `3-${h('c')}`, [h('c'), h('d'), h('1')], { _deleted: true });
});
after(async () => {
  await server.close();
});

test('GET returns the winner with its body spliced verbatim and the quoted rev as ETag', async () => {
  const response = await server.request({ path: `/${db}/d`, auth: 'admin' });
  assert.equal(response.status, 200);
  assert.equal(response.text, `{"_id":"d","_rev":"${rev2}","v":2,"f":1.0,"big":9007199254740993}\n`);
  assert.equal(response.headers['etag'], `"${rev2}"`);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(response.headers['cache-control'], 'must-revalidate');
});

test('If-None-Match with the quoted rev → 304 with ETag and no body; unquoted → 200', async () => {
  const cached = await server.request({ path: `/${db}/d`, auth: 'admin', headers: { 'If-None-Match': `"${rev2}"` } });
  assert.equal(cached.status, 304);
  assert.equal(cached.text, '');
  assert.equal(cached.headers['etag'], `"${rev2}"`);
  assert.equal(cached.headers['content-type'], undefined);
  const head = await server.request({ method: 'HEAD', path: `/${db}/d`, auth: 'admin', headers: { 'If-None-Match': `"x", "${rev2}"` } });
  assert.equal(head.status, 304);
  const unquoted = await server.request({ path: `/${db}/d`, auth: 'admin', headers: { 'If-None-Match': rev2 } });
  assert.equal(unquoted.status, 200);
});

test('HEAD has the GET headers and no body; a missing doc is a bodiless 404', async () => {
  const get = await server.request({ path: `/${db}/d`, auth: 'admin' });
  const head = await server.request({ method: 'HEAD', path: `/${db}/d`, auth: 'admin' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers['content-length'], get.headers['content-length']);
  assert.equal(head.headers['etag'], get.headers['etag']);
  const missing = await server.request({ method: 'HEAD', path: `/${db}/nope`, auth: 'admin' });
  assert.equal(missing.status, 404);
  assert.equal(missing.text, '');
});

test('?rev= reads an older revision; unknown → 404 missing; malformed → 400', async () => {
  const old = await server.request({ path: `/${db}/d?rev=${rev1}&revs=true`, auth: 'admin' });
  assert.equal(old.status, 200);
  const doc = old.json as { v: number; _revisions: { start: number; ids: string[] } };
  assert.equal(doc.v, 1);
  assert.deepEqual(doc._revisions, { start: 1, ids: [rev1.slice(2)] });
  assert.equal(old.headers['etag'], `"${rev1}"`);
  const unknown = await server.request({ path: `/${db}/d?rev=1-${h('0')}`, auth: 'admin' });
  assert.deepEqual([unknown.status, unknown.json], [404, { error: 'not_found', reason: 'missing' }]);
  for (const bad of ['abc', '', 'x-1']) {
    const response = await server.request({ path: `/${db}/d?rev=${bad}`, auth: 'admin' });
    assert.deepEqual([response.status, response.json], [400, { error: 'bad_request', reason: 'Invalid rev format' }]);
  }
});

test('boolean parameters are lenient: only "true" counts, unknown parameters are ignored', async () => {
  for (const query of ['revs=maybe', 'revs=TRUE', 'revs=1', 'bogus=1']) {
    const response = await server.request({ path: `/${db}/d?${query}`, auth: 'admin' });
    assert.equal(response.status, 200, query);
    assert.equal((response.json as Record<string, unknown>)['_revisions'], undefined, query);
  }
});

test('conflicts, deleted_conflicts and meta add members and suppress the ETag', async () => {
  const both = await server.request({ path: `/${db}/c?conflicts=true&deleted_conflicts=true`, auth: 'admin' });
  assert.deepEqual(both.json, {
    _id: 'c',
    _rev: `2-${h('b')}`,
    v: 'b',
    _conflicts: [`2-${h('a')}`],
    _deleted_conflicts: [`3-${h('c')}`],
  });
  assert.equal(both.headers['etag'], undefined);
  const meta = await server.request({ path: `/${db}/c?meta=true`, auth: 'admin' });
  const metaDoc = meta.json as Record<string, unknown>;
  assert.deepEqual(metaDoc['_revs_info'], [
    { rev: `2-${h('b')}`, status: 'available' },
    { rev: `1-${h('1')}`, status: 'available' },
  ]);
  assert.ok(metaDoc['_conflicts'] && metaDoc['_deleted_conflicts']);
  // a doc without conflicts: conflicts=true adds nothing, so the ETag stays
  const plain = await server.request({ path: `/${db}/d?conflicts=true`, auth: 'admin' });
  assert.equal(plain.headers['etag'], `"${rev2}"`);
});

test('metadata is ignored with ?rev=; local_seq adds an integer', async () => {
  const loser = await server.request({ path: `/${db}/c?rev=2-${h('a')}&conflicts=true&revs_info=true&deleted_conflicts=true`, auth: 'admin' });
  assert.deepEqual(loser.json, { _id: 'c', _rev: `2-${h('a')}`, v: 'a' });
  assert.equal(loser.headers['etag'], `"2-${h('a')}"`);
  const tombstone = await server.request({ path: `/${db}/c?rev=3-${h('c')}`, auth: 'admin' });
  assert.deepEqual(tombstone.json, { _id: 'c', _rev: `3-${h('c')}`, _deleted: true });
  const seq = await server.request({ path: `/${db}/d?local_seq=true`, auth: 'admin' });
  assert.equal(typeof (seq.json as { _local_seq: unknown })._local_seq, 'number');
  assert.equal(seq.headers['etag'], undefined);
});

test('latest=true answers the winner whatever ?rev= names', async () => {
  const response = await server.request({ path: `/${db}/c?rev=1-${h('1')}&latest=true`, auth: 'admin' });
  assert.deepEqual(response.json, { _id: 'c', _rev: `2-${h('b')}`, v: 'b' });
});

test('open_revs as JSON: all leaves ascending, listed revs with missing ones last, latest', async () => {
  const json = { Accept: 'application/json' };
  const all = await server.request({ path: `/${db}/c?open_revs=all`, auth: 'admin', headers: json });
  assert.equal(all.headers['content-type'], 'application/json');
  assert.equal(
    all.text,
    `[{"ok":{"_id":"c","_rev":"2-${h('a')}","v":"a"}},{"ok":{"_id":"c","_rev":"2-${h('b')}","v":"b"}},` +
      `{"ok":{"_id":"c","_rev":"3-${h('c')}","_deleted":true}}]\n`,
  );
  const listed = await server.request({
    path: `/${db}/c?open_revs=${encodeURIComponent(JSON.stringify([`9-${h('9')}`, `2-${h('b')}`, `2-${h('a')}`]))}`,
    auth: 'admin',
    headers: json,
  });
  assert.deepEqual(
    (listed.json as object[]).map((item) => ('ok' in item ? (item.ok as { _rev: string })._rev : item)),
    [`2-${h('a')}`, `2-${h('b')}`, { missing: `9-${h('9')}` }],
  );
  const latest = await server.request({
    path: `/${db}/c?open_revs=${encodeURIComponent(JSON.stringify([`1-${h('1')}`]))}&latest=true`,
    auth: 'admin',
    headers: json,
  });
  assert.equal((latest.json as object[]).length, 3);
  const missingDoc = await server.request({ path: `/${db}/zz?open_revs=all`, auth: 'admin', headers: json });
  assert.deepEqual([missingDoc.status, missingDoc.json], [404, { error: 'not_found', reason: 'missing' }]);
  const missingList = await server.request({ path: `/${db}/zz?open_revs=["1-${h('1')}"]`, auth: 'admin', headers: json });
  assert.deepEqual(missingList.json, [{ missing: `1-${h('1')}` }]);
});

test('open_revs errors: bad JSON, a non-list, a bad rev', async () => {
  const json = { Accept: 'application/json' };
  const bogus = await server.request({ path: `/${db}/c?open_revs=bogus`, auth: 'admin', headers: json });
  assert.deepEqual([bogus.status, bogus.json], [400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }]);
  const object = await server.request({ path: `/${db}/c?open_revs={}`, auth: 'admin', headers: json });
  assert.deepEqual(errorOf(object), { error: 'bad_request', reason: 'Invalid list of revisions' });
  const badRev = await server.request({ path: `/${db}/c?open_revs=["bogus"]`, auth: 'admin', headers: json });
  assert.deepEqual(errorOf(badRev), { error: 'bad_request', reason: 'Invalid rev format' });
});

test('open_revs without Accept: application/json is multipart/mixed, framed as CouchDB frames it', async () => {
  const response = await server.request({ path: `/${db}/c?open_revs=["2-${h('b')}","7-${h('7')}"]&revs=true`, auth: 'admin' });
  assert.equal(response.status, 200);
  const match = /^multipart\/mixed; boundary="([0-9a-f]{32})"$/.exec(String(response.headers['content-type']));
  assert.ok(match, String(response.headers['content-type']));
  const boundary = match[1];
  assert.equal(
    response.text,
    `--${boundary}\r\nContent-Type: application/json\r\n\r\n` +
      `{"_id":"c","_rev":"2-${h('b')}","v":"b","_revisions":{"start":2,"ids":["${h('b')}","${h('1')}"]}}` +
      `\r\n--${boundary}\r\nContent-Type: application/json; error="true"\r\n\r\n{"missing":"7-${h('7')}"}\r\n--${boundary}--`,
  );
  const star = await server.request({ path: `/${db}/c?open_revs=all`, auth: 'admin', headers: { Accept: '*/*' } });
  assert.match(String(star.headers['content-type']), /^multipart\/mixed/);
});

test('deleted docs: 404 deleted, ?deleted=true reads the tombstone, ids with _ are missing', async () => {
  const rev = await putDoc(server, `/${db}/gone`, { x: 1 });
  const removed = await server.request({ method: 'DELETE', path: `/${db}/gone?rev=${rev}`, auth: 'admin' });
  assert.equal(removed.status, 200);
  const get = await server.request({ path: `/${db}/gone`, auth: 'admin' });
  assert.deepEqual([get.status, get.json], [404, { error: 'not_found', reason: 'deleted' }]);
  const tombstone = await server.request({ path: `/${db}/gone?deleted=true`, auth: 'admin' });
  assert.equal((tombstone.json as { _deleted: boolean })._deleted, true);
  const underscore = await server.request({ path: `/${db}/_foo`, auth: 'admin' });
  assert.deepEqual([underscore.status, underscore.json], [404, { error: 'not_found', reason: 'missing' }]);
  const bareDesign = await server.request({ path: `/${db}/_design`, auth: 'admin' });
  assert.equal(bareDesign.status, 404);
});

test('GET /db/_design%2Fx redirects to /db/_design/x (query kept); other methods use the id as is', async () => {
  await putDoc(server, `/${db}/_design%2Fx`, { language: 'javascript' });
  const redirect = await server.request({ path: `/${db}/_design%2Fx?revs=true`, auth: 'admin', headers: { Host: 'example.org:5984' } });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers['location'], `http://example.org:5984/${db}/_design/x?revs=true`);
  assert.equal(redirect.text, '');
  const direct = await server.request({ path: `/${db}/_design/x`, auth: 'admin' });
  assert.equal((direct.json as { _id: string })._id, '_design/x');
});

test('reads need membership; the database must exist', async () => {
  const anonymous = await server.request({ path: `/${db}/d` });
  assert.deepEqual([anonymous.status, anonymous.json], [401, { error: 'unauthorized', reason: 'You are not authorized to access this db.' }]);
  const noDb = await server.request({ path: '/nodb/d', auth: 'admin' });
  assert.deepEqual([noDb.status, noDb.json], [404, { error: 'not_found', reason: 'Database does not exist.' }]);
  const method = await server.request({ method: 'PATCH', path: `/${db}/d`, auth: 'admin' });
  assert.deepEqual(method.json, { error: 'method_not_allowed', reason: 'Only DELETE,GET,HEAD,POST,PUT,COPY allowed' });
});
