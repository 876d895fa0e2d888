/** `_local` documents and COPY. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { createDb, errorOf, h, putDoc } from './doc-support.js';

let server: TestServer;
let db: string;

before(async () => {
  server = await startTestServer();
  db = await createDb(server, 'doclocal');
});
after(async () => {
  await server.close();
});

test('local docs: revs 0-N without conflict checks, an opaque ETag, Location with %2F', async () => {
  const created = await server.request({ method: 'PUT', path: `/${db}/_local/l`, auth: 'admin', body: { v: 1 } });
  assert.deepEqual([created.status, created.json], [201, { ok: true, id: '_local/l', rev: '0-1' }]);
  assert.match(String(created.headers['etag']), /^"[0-9A-Z]+"$/);
  assert.notEqual(created.headers['etag'], '"0-1"');
  assert.equal(created.headers['location'], `${server.baseUrl}/${db}/_local%2Fl`);
  const get = await server.request({ path: `/${db}/_local/l`, auth: 'admin' });
  assert.equal(get.text, '{"_id":"_local/l","_rev":"0-1","v":1}\n');
  assert.equal(get.headers['etag'], created.headers['etag']);
  const cached = await server.request({ path: `/${db}/_local/l`, auth: 'admin', headers: { 'If-None-Match': String(get.headers['etag']) } });
  assert.equal(cached.status, 304);
  const overwrite = await server.request({ method: 'PUT', path: `/${db}/_local/l`, auth: 'admin', body: { v: 2 } });
  assert.equal((overwrite.json as { rev: string }).rev, '0-1');
  const anyRev = await server.request({ method: 'PUT', path: `/${db}/_local/l`, auth: 'admin', body: { _rev: '0-5', v: 2 } });
  assert.equal((anyRev.json as { rev: string }).rev, '0-6');
  const viaQuery = await server.request({ method: 'PUT', path: `/${db}/_local/l?rev=0-6`, auth: 'admin', body: { v: 3 } });
  assert.equal((viaQuery.json as { rev: string }).rev, '0-7');
  const viaIfMatch = await server.request({ method: 'PUT', path: `/${db}/_local/l`, auth: 'admin', body: { v: 4 }, headers: { 'If-Match': '0-7' } });
  assert.equal((viaIfMatch.json as { rev: string }).rev, '0-8');
  const nonLocalRev = await server.request({ method: 'PUT', path: `/${db}/_local/l`, auth: 'admin', body: { _rev: `1-${h('2')}` } });
  assert.deepEqual(errorOf(nonLocalRev), { error: 'error', reason: 'Invalid rev format' });
  const encoded = await server.request({ path: `/${db}/_local%2Fl`, auth: 'admin' });
  assert.equal((encoded.json as { v: number }).v, 4);
});

test('local docs: revs=true, ?rev= is missing, open_revs finds nothing, numbers keep their form', async () => {
  await putDoc(server, `/${db}/_local/n`, '{"n":1.0,"big":18446744073709551616}');
  const revs = await server.request({ path: `/${db}/_local/n?revs=true`, auth: 'admin' });
  assert.equal(revs.text, '{"_id":"_local/n","_rev":"0-1","n":1.0,"big":18446744073709551616,"_revisions":{"start":0,"ids":["1"]}}\n');
  const byRev = await server.request({ path: `/${db}/_local/n?rev=0-1`, auth: 'admin' });
  assert.deepEqual([byRev.status, byRev.json], [404, { error: 'not_found', reason: 'missing' }]);
  const all = await server.request({ path: `/${db}/_local/n?open_revs=all`, auth: 'admin', headers: { Accept: 'application/json' } });
  assert.equal(all.status, 404);
  const head = await server.request({ method: 'HEAD', path: `/${db}/_local/n`, auth: 'admin' });
  assert.equal(head.status, 200);
  assert.ok(head.headers['etag']);
});

test('local docs: DELETE needs no rev (0-0), then 404 missing; _deleted PUT answers 200 0-0', async () => {
  await putDoc(server, `/${db}/_local/d`, { v: 1 });
  const removed = await server.request({ method: 'DELETE', path: `/${db}/_local/d`, auth: 'admin' });
  assert.deepEqual([removed.status, removed.json], [200, { ok: true, id: '_local/d', rev: '0-0' }]);
  const gone = await server.request({ path: `/${db}/_local/d`, auth: 'admin' });
  assert.deepEqual([gone.status, gone.json], [404, { error: 'not_found', reason: 'missing' }]);
  const again = await server.request({ method: 'DELETE', path: `/${db}/_local/d?rev=0-1`, auth: 'admin' });
  assert.equal(again.status, 404);
  await putDoc(server, `/${db}/_local/e`, { v: 1 });
  const putDelete = await server.request({ method: 'PUT', path: `/${db}/_local/e`, auth: 'admin', body: { _rev: '0-1', _deleted: true } });
  assert.deepEqual([putDelete.status, putDelete.json], [200, { ok: true, id: '_local/e', rev: '0-0' }]);
  assert.equal(putDelete.headers['etag'], removed.headers['etag']);
});

test('local docs: new_edits=false answers the given rev and stores the next; attachments are dropped', async () => {
  const replicated = await server.request({ method: 'PUT', path: `/${db}/_local/r?new_edits=false`, auth: 'admin', body: { _rev: '0-7', v: 1 } });
  assert.equal((replicated.json as { rev: string }).rev, '0-7');
  const get = await server.request({ path: `/${db}/_local/r`, auth: 'admin' });
  assert.equal((get.json as { _rev: string })._rev, '0-8');
  await putDoc(server, `/${db}/_local/att`, { _attachments: { 'a.txt': { content_type: 'text/plain', data: 'aGk=' } } });
  const att = await server.request({ path: `/${db}/_local/att`, auth: 'admin' });
  assert.deepEqual(att.json, { _id: '_local/att', _rev: '0-1' });
  const special = await server.request({ method: 'PUT', path: `/${db}/_local/s`, auth: 'admin', body: { _foo: 1 } });
  assert.deepEqual(errorOf(special), { error: 'doc_validation', reason: 'Bad special document member: _foo' });
  const below = await server.request({ path: `/${db}/_local/x/y`, auth: 'admin' });
  assert.deepEqual(errorOf(below), { error: 'bad_request', reason: '_local documents do not accept attachments.' });
});

test('COPY: to a new id (201, ETag, Location), onto an existing one only with ?rev=, errors', async () => {
  const sourceRev = await putDoc(server, `/${db}/src`, '{"a":1.0}');
  const copied = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin', headers: { Destination: 'dst' } });
  assert.equal(copied.status, 201);
  const dstRev = (copied.json as { rev: string }).rev;
  assert.equal(dstRev, sourceRev);
  assert.equal(copied.headers['etag'], `"${dstRev}"`);
  assert.equal(copied.headers['location'], `${server.baseUrl}/${db}/dst`);
  const onto = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin', headers: { Destination: 'dst' } });
  assert.deepEqual([onto.status, onto.json], [409, { error: 'conflict', reason: 'Document update conflict.' }]);
  const withRev = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin', headers: { Destination: `dst?rev=${dstRev}` } });
  assert.equal(withRev.status, 201);
  const dst = await server.request({ path: `/${db}/dst`, auth: 'admin' });
  assert.equal(dst.text, `{"_id":"dst","_rev":"${(withRev.json as { rev: string }).rev}","a":1.0}\n`);
  const noHeader = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin' });
  assert.deepEqual(errorOf(noHeader), { error: 'bad_request', reason: 'Destination header is mandatory for COPY.' });
  const absolute = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin', headers: { Destination: 'http://x/y' } });
  assert.deepEqual(errorOf(absolute), { error: 'bad_request', reason: 'Destination URL must be relative.' });
  const badId = await server.request({ method: 'COPY', path: `/${db}/src`, auth: 'admin', headers: { Destination: '_bad' } });
  assert.equal(errorOf(badId).error, 'illegal_docid');
  const missing = await server.request({ method: 'COPY', path: `/${db}/nosuch`, auth: 'admin', headers: { Destination: 'z' } });
  assert.deepEqual([missing.status, missing.json], [404, { error: 'not_found', reason: 'missing' }]);
});

test('COPY: an older source revision, an encoded destination, local documents', async () => {
  const rev1 = await putDoc(server, `/${db}/versions`, { v: 1 });
  await putDoc(server, `/${db}/versions`, { _rev: rev1, v: 2 });
  const old = await server.request({ method: 'COPY', path: `/${db}/versions?rev=${rev1}`, auth: 'admin', headers: { Destination: 'old%20copy' } });
  assert.equal(old.status, 201);
  const copy = await server.request({ path: `/${db}/old%20copy`, auth: 'admin' });
  assert.equal((copy.json as { v: number }).v, 1);
  await putDoc(server, `/${db}/_local/e`, '{"n":1.0}');
  const local = await server.request({ method: 'COPY', path: `/${db}/_local/e`, auth: 'admin', headers: { Destination: '_local/f' } });
  assert.deepEqual([local.status, local.json], [201, { ok: true, id: '_local/f', rev: '0-1' }]);
  assert.equal(local.headers['etag'], '"0-1"');
  assert.equal(local.headers['location'], `${server.baseUrl}/${db}/_local%2Ff`);
  const f = await server.request({ path: `/${db}/_local/f`, auth: 'admin' });
  assert.equal(f.text, '{"_id":"_local/f","_rev":"0-1","n":1.0}\n');
});
