/** PUT and DELETE of documents: revisions from body/query/If-Match, statuses, headers. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { createDb, errorOf, h, putDoc } from './doc-support.js';

let server: TestServer;
let db: string;

const conflict = { error: 'conflict', reason: 'Document update conflict.' };

before(async () => {
  server = await startTestServer();
  db = await createDb(server, 'docwrite');
});
after(async () => {
  await server.close();
});

test('PUT creates (201) with ETag and an absolute Location built from Host', async () => {
  const response = await server.request({
    method: 'PUT',
    path: `/${db}/a%20b+c`,
    auth: 'admin',
    body: '{"count":1}',
    headers: { Host: 'couch.example:5984' },
  });
  assert.equal(response.status, 201);
  assert.equal(response.text, '{"ok":true,"id":"a b c","rev":"1-74620ecf527d29daaab9c2b465fbce66"}\n');
  assert.equal(response.headers['etag'], '"1-74620ecf527d29daaab9c2b465fbce66"');
  assert.equal(response.headers['location'], `http://couch.example:5984/${db}/a%20b%20c`);
  const forwarded = await server.request({
    method: 'PUT',
    path: `/${db}/_design/loc`,
    auth: 'admin',
    body: {},
    headers: { 'X-Forwarded-Host': 'proxy.example', 'X-Forwarded-Proto': 'https' },
  });
  assert.equal(forwarded.headers['location'], `https://proxy.example/${db}/_design%2Floc`);
});

test('the body is JSON whatever the Content-Type; malformed JSON and non-objects are 400', async () => {
  const text = await server.request({ method: 'PUT', path: `/${db}/ct`, auth: 'admin', body: '{"a":1}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 201);
  for (const raw of ['{"a":', '', '{"a":1}x', '{"a":"\\ud800"}']) {
    const response = await server.request({ method: 'PUT', path: `/${db}/bad`, auth: 'admin', body: raw, headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual([response.status, response.json], [400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }], raw);
  }
  const array = await server.request({ method: 'PUT', path: `/${db}/bad`, auth: 'admin', body: '[1]' });
  assert.deepEqual(errorOf(array), { error: 'bad_request', reason: 'Document must be a JSON object' });
  const special = await server.request({ method: 'PUT', path: `/${db}/bad`, auth: 'admin', body: { _foo: 1 } });
  assert.deepEqual(errorOf(special), { error: 'doc_validation', reason: 'Bad special document member: _foo' });
});

test('updates need the current rev: none, stale, unknown → 409; malformed → 400', async () => {
  const rev1 = await putDoc(server, `/${db}/u`, { v: 1 });
  const none = await server.request({ method: 'PUT', path: `/${db}/u`, auth: 'admin', body: { v: 2 } });
  assert.deepEqual([none.status, none.json], [409, conflict]);
  const rev2 = await putDoc(server, `/${db}/u`, { _rev: rev1, v: 2 });
  const stale = await server.request({ method: 'PUT', path: `/${db}/u`, auth: 'admin', body: { _rev: rev1, v: 3 } });
  assert.deepEqual([stale.status, stale.json], [409, conflict]);
  const malformed = await server.request({ method: 'PUT', path: `/${db}/u`, auth: 'admin', body: { _rev: 1, v: 3 } });
  assert.deepEqual(errorOf(malformed), { error: 'bad_request', reason: 'Invalid rev format' });
  const viaQuery = await server.request({ method: 'PUT', path: `/${db}/u?rev=${rev2}`, auth: 'admin', body: { v: 3 } });
  assert.equal(viaQuery.status, 201);
  const rev3 = (viaQuery.json as { rev: string }).rev;
  const viaIfMatch = await server.request({ method: 'PUT', path: `/${db}/u`, auth: 'admin', body: { v: 4 }, headers: { 'If-Match': `"${rev3}"` } });
  assert.equal(viaIfMatch.status, 201);
});

test('body, ?rev= and If-Match must agree', async () => {
  const rev = await putDoc(server, `/${db}/m`, { v: 1 });
  const other = `1-${h('0')}`;
  const queryVsBody = await server.request({ method: 'PUT', path: `/${db}/m?rev=${other}`, auth: 'admin', body: { _rev: rev } });
  assert.deepEqual(errorOf(queryVsBody), {
    error: 'bad_request',
    reason: 'Document rev from request body and query string have different values',
  });
  const etagError = { error: 'bad_request', reason: 'Document rev and etag have different values' };
  const headerVsBody = await server.request({ method: 'PUT', path: `/${db}/m`, auth: 'admin', body: { _rev: rev }, headers: { 'If-Match': other } });
  assert.deepEqual(errorOf(headerVsBody), etagError);
  const headerVsQuery = await server.request({ method: 'PUT', path: `/${db}/m?rev=${rev}`, auth: 'admin', body: {}, headers: { 'If-Match': other } });
  assert.deepEqual(errorOf(headerVsQuery), etagError);
  const deleteMismatch = await server.request({ method: 'DELETE', path: `/${db}/m?rev=${rev}`, auth: 'admin', headers: { 'If-Match': other } });
  assert.deepEqual(errorOf(deleteMismatch), etagError);
  const allAgree = await server.request({ method: 'PUT', path: `/${db}/m?rev=${rev}`, auth: 'admin', body: { _rev: rev, v: 2 }, headers: { 'If-Match': rev } });
  assert.equal(allAgree.status, 201);
});

test('a PUT that deletes answers 200 with Location; a deleted doc is re-created on its branch', async () => {
  const rev1 = await putDoc(server, `/${db}/t`, { v: 1 });
  const deleted = await server.request({ method: 'PUT', path: `/${db}/t`, auth: 'admin', body: { _rev: rev1, _deleted: true, why: 'gone' } });
  assert.equal(deleted.status, 200);
  assert.ok(deleted.headers['location']);
  const rev2 = (deleted.json as { rev: string }).rev;
  const tombstone = await server.request({ path: `/${db}/t?rev=${rev2}`, auth: 'admin' });
  assert.deepEqual(tombstone.json, { _id: 't', _rev: rev2, why: 'gone', _deleted: true });
  const recreated = await server.request({ method: 'PUT', path: `/${db}/t`, auth: 'admin', body: { v: 3 } });
  assert.equal(recreated.status, 201);
  assert.match((recreated.json as { rev: string }).rev, /^3-/);
});

test('batch=ok answers 202 without a rev and writes afterwards', async () => {
  const response = await server.request({ method: 'PUT', path: `/${db}/b?batch=ok`, auth: 'admin', body: { v: 1 } });
  assert.equal(response.status, 202);
  assert.equal(response.text, '{"ok":true,"id":"b"}\n');
  assert.equal(response.headers['etag'], undefined);
  let status = 0;
  for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
    status = (await server.request({ path: `/${db}/b`, auth: 'admin' })).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(status, 200);
});

test('new_edits=false stores the given rev, needs one, and ignores a known rev', async () => {
  const rev = `3-${'abcdef'.repeat(5)}ab`;
  const first = await server.request({ method: 'PUT', path: `/${db}/ne?new_edits=false`, auth: 'admin', body: { _rev: rev, v: 1 } });
  assert.deepEqual([first.status, first.json], [201, { ok: true, id: 'ne', rev }]);
  const again = await server.request({ method: 'PUT', path: `/${db}/ne?new_edits=false`, auth: 'admin', body: { _rev: rev, v: 999 } });
  assert.equal(again.status, 201);
  const get = await server.request({ path: `/${db}/ne`, auth: 'admin' });
  assert.equal((get.json as { v: number }).v, 1);
  const noRev = await server.request({ method: 'PUT', path: `/${db}/ne2?new_edits=false`, auth: 'admin', body: { v: 1 } });
  assert.deepEqual(errorOf(noRev), {
    error: 'bad_request',
    reason: 'When `new_edits: false`, the document needs `_rev` or `_revisions` specified',
  });
});

test('illegal ids: _foo, _design alone, bare _local; _id in the body does not win', async () => {
  const reserved = { error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' };
  for (const path of ['_foo', '_design', '_design/']) {
    const response = await server.request({ method: 'PUT', path: `/${db}/${path}`, auth: 'admin', body: { a: 1 } });
    assert.deepEqual([response.status, response.json], [400, reserved], path);
  }
  for (const path of ['_local', '_local%2F']) {
    const response = await server.request({ method: 'PUT', path: `/${db}/${path}`, auth: 'admin', body: { a: 1 } });
    assert.deepEqual(errorOf(response), { error: 'bad_request', reason: 'Invalid _local document id.' }, path);
  }
  const renamed = await server.request({ method: 'PUT', path: `/${db}/x`, auth: 'admin', body: { _id: 'y', a: 1 } });
  assert.equal((renamed.json as { id: string }).id, 'x');
  const badBodyId = await server.request({ method: 'PUT', path: `/${db}/x2`, auth: 'admin', body: { _id: 1 } });
  assert.deepEqual(errorOf(badBodyId), { error: 'illegal_docid', reason: 'Document id must be a string' });
});

test('documents larger than docBytesMax are refused with 413', async () => {
  const small = await startTestServer({ config: { limits: { ...server.services.limits, docBytesMax: 64 } } });
  try {
    await createDb(small, 'big');
    const response = await small.request({ method: 'PUT', path: '/big/d', auth: 'admin', body: { text: 'x'.repeat(100) } });
    assert.deepEqual([response.status, response.json], [413, { error: 'document_too_large', reason: 'd' }]);
  } finally {
    await small.close();
  }
});

test('DELETE: 404 missing/deleted first, 409 without a rev, 200 with the ETag', async () => {
  const missing = await server.request({ method: 'DELETE', path: `/${db}/never?rev=1-${h('2')}`, auth: 'admin' });
  assert.deepEqual([missing.status, missing.json], [404, { error: 'not_found', reason: 'missing' }]);
  const rev = await putDoc(server, `/${db}/del`, { x: 1 });
  const noRev = await server.request({ method: 'DELETE', path: `/${db}/del`, auth: 'admin' });
  assert.deepEqual([noRev.status, noRev.json], [409, conflict]);
  const garbage = await server.request({ method: 'DELETE', path: `/${db}/del?rev=garbage`, auth: 'admin' });
  assert.deepEqual(errorOf(garbage), { error: 'bad_request', reason: 'Invalid rev format' });
  const removed = await server.request({ method: 'DELETE', path: `/${db}/del`, auth: 'admin', headers: { 'If-Match': rev } });
  assert.equal(removed.status, 200);
  const newRev = (removed.json as { rev: string }).rev;
  assert.equal(removed.headers['etag'], `"${newRev}"`);
  assert.equal(removed.headers['location'], undefined);
  const again = await server.request({ method: 'DELETE', path: `/${db}/del?rev=${newRev}`, auth: 'admin' });
  assert.deepEqual([again.status, again.json], [404, { error: 'not_found', reason: 'deleted' }]);
});

test('POST /db/docid is the form upload: Referer first, then the id, then the content type', async () => {
  const noReferer = await server.request({ method: 'POST', path: `/${db}/form`, auth: 'admin', body: {} });
  assert.deepEqual(errorOf(noReferer), { error: 'bad_request', reason: 'Referer header required.' });
  const otherHost = await server.request({ method: 'POST', path: `/${db}/form`, auth: 'admin', body: {}, headers: { Referer: 'http://evil.example/' } });
  assert.deepEqual(errorOf(otherHost), { error: 'bad_request', reason: 'Referer header must match host.' });
  const host = new URL(server.baseUrl).host;
  const notForm = await server.request({ method: 'POST', path: `/${db}/form`, auth: 'admin', body: {}, headers: { Referer: `http://${host}/` } });
  assert.equal(notForm.status, 415);
});
