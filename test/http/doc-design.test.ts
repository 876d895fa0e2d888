/** Design documents (validation, db-admin only) and who may write what. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { validateDesignDoc } from '../../src/db/design-doc.js';
import { acceptsContentType, multipartMixedBody } from '../../src/http/multipart.js';
import { couchUrlEncode } from '../../src/http/routes-document-common.js';
import { createDb, errorOf, putDoc } from './doc-support.js';

let server: TestServer;
let db: string;
let publicDb: string;

before(async () => {
  server = await startTestServer();
  db = await createDb(server, 'docdesign');
  publicDb = await createDb(server, 'docpublic');
  const security = await server.request({ method: 'PUT', path: `/${publicDb}/_security`, auth: 'admin', body: {} });
  assert.equal(security.status, 200, security.text);
});
after(async () => {
  await server.close();
});

const invalid = (reason: string) => ({ error: 'invalid_design_doc', reason });

test('design docs are stored as documents and hash like normal ones', async () => {
  const response = await server.request({ method: 'PUT', path: `/${db}/_design/p7`, auth: 'admin', body: '{"a":1}' });
  assert.deepEqual(response.json, { ok: true, id: '_design/p7', rev: '1-23202479633c2b380f79507a776743d5' });
  assert.equal(response.headers['location'], `${server.baseUrl}/${db}/_design%2Fp7`);
  const get = await server.request({ path: `/${db}/_design/p7`, auth: 'admin' });
  assert.equal(get.text, '{"_id":"_design/p7","_rev":"1-23202479633c2b380f79507a776743d5","a":1}\n');
});

test('design doc validation errors, as CouchDB words them', async () => {
  const cases: [unknown, string][] = [
    [{ views: { v: { map: 1 } } }, '`views.v.map` field must have string type'],
    [{ views: 'x' }, '`views` field must have object type'],
    [{ views: { v: 'x' } }, '`views.v` field must have object type'],
    [{ views: { v: {} } }, 'View `v` must contain map function'],
    [{ views: { v: { map: 'function(doc){}', reduce: '_nope' } } }, '`_nope` is not a supported reduce function.'],
    [{ views: { v: { map: 'function(doc){}', reduce: 1 } } }, '`views.v.reduce` field must have string type'],
    [{ filters: { f: 1 } }, '`filters.f` field must have object or string type'],
    [{ options: { partitioned: 'yes' } }, '`options.partitioned` field must have boolean type'],
    [{ rewrites: 1 }, '`rewrites` field must have string or array type'],
    [{ language: 1 }, '`language` field must have string type'],
    [{ validate_doc_update: {} }, '`validate_doc_update` field must have string type'],
  ];
  for (const [body, reason] of cases) {
    const response = await server.request({ method: 'PUT', path: `/${db}/_design/bad`, auth: 'admin', body: body as object });
    assert.deepEqual([response.status, response.json], [400, invalid(reason)], JSON.stringify(body));
  }
});

test('accepted design docs: unknown languages, builtin reduces by prefix, lib, query maps', async () => {
  await putDoc(server, `/${db}/_design/cobol`, { language: 'cobol', views: { v: { map: 'x', reduce: '_nope' } } });
  await putDoc(server, `/${db}/_design/sums`, { views: { a: { map: 'function(doc){}', reduce: '_sum' }, b: { map: 'function(doc){}', reduce: '_count' }, lib: { x: 'y' } } });
  await putDoc(server, `/${db}/_design/mango`, { language: 'query', views: { v: { map: { fields: { a: 'asc' } } } } });
});

test('design doc writes need a db admin: anonymous 401 on a public database', async () => {
  const doc = await server.request({ method: 'PUT', path: `/${publicDb}/plain`, body: { a: 1 } });
  assert.equal(doc.status, 201);
  const design = await server.request({ method: 'PUT', path: `/${publicDb}/_design/d`, body: { a: 1 } });
  assert.deepEqual([design.status, design.json], [401, { error: 'unauthorized', reason: 'You are not a db or server admin.' }]);
  const rev = await putDoc(server, `/${publicDb}/_design/d`, { a: 1 });
  const read = await server.request({ path: `/${publicDb}/_design/d` });
  assert.equal(read.status, 200);
  const removal = await server.request({ method: 'DELETE', path: `/${publicDb}/_design/d?rev=${rev}` });
  assert.equal(removal.status, 401);
  const copyOnto = await server.request({ method: 'COPY', path: `/${publicDb}/plain`, headers: { Destination: '_design/e' } });
  assert.equal(copyOnto.status, 401);
});

test('admin-only databases refuse anonymous document writes', async () => {
  const response = await server.request({ method: 'PUT', path: `/${db}/anon`, body: { a: 1 } });
  assert.deepEqual(errorOf(response), { error: 'unauthorized', reason: 'You are not authorized to access this db.' });
});

test('validateDesignDoc checks paths in CouchDB order (unit)', () => {
  assert.doesNotThrow(() => validateDesignDoc({}));
  assert.throws(() => validateDesignDoc({ language: 1, views: 'x' }), /`language` field must have string type/);
  assert.throws(() => validateDesignDoc({ views: { lib: 'x' } }), /`views.lib` field must have object type/);
  assert.doesNotThrow(() => validateDesignDoc({ views: { v: { map: 'f', reduce: '_approx_count_distinct' } } }));
});

test('acceptsContentType follows mochiweb (unit)', () => {
  assert.equal(acceptsContentType(undefined, 'multipart/mixed'), true);
  assert.equal(acceptsContentType('application/json', 'multipart/mixed'), false);
  assert.equal(acceptsContentType('*/*', 'multipart/mixed'), true);
  assert.equal(acceptsContentType('multipart/*;q=0.5, application/json', 'multipart/mixed'), true);
  assert.equal(acceptsContentType('*/*, multipart/mixed;q=0', 'multipart/mixed'), false);
  assert.equal(acceptsContentType('multipart/mixed;q=abc', 'multipart/mixed'), false);
});

test('multipart framing and URL encoding (unit)', () => {
  const body = multipartMixedBody('B', [{ contentType: 'application/json', body: '{}' }]);
  assert.equal(body.toString('utf8'), '--B\r\nContent-Type: application/json\r\n\r\n{}\r\n--B--');
  assert.equal(couchUrlEncode('_design/a b+é:.-~'), '_design%2Fa%20b%2B%C3%A9:.-%7E');
});
