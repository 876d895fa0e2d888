/**
 * `PUT /{db}/{docid}` with a `multipart/related` body: what CouchDB's
 * replicator sends when it pushes a document with attachments
 * (`?new_edits=false`, gzip-encoded parts for gzip-stored attachments), and
 * the interactive form of nano and CouchDB's documentation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pako from 'pako';
import { defaultLimits } from '../../src/core/limits.js';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { couchMultipartRequest, nanoMultipartRequest } from '../support/couch-multipart.js';
import type { CouchMultipartRequest } from '../support/couch-multipart.js';
import { createDb, errorOf, putDoc } from './doc-support.js';

let server: TestServer;
let db: string;
const requestBytesMax = 256 * 1024;
const docBytesMax = 64 * 1024;

before(async () => {
  server = await startTestServer({ config: { limits: { ...defaultLimits, requestBytesMax, docBytesMax } } });
  db = await createDb(server, 'mp');
});
after(async () => {
  await server.close();
});

const md5 = (bytes: Uint8Array | string): string => `md5-${createHash('md5').update(bytes).digest('base64')}`;
const get = (path: string, headers: Record<string, string> = {}) => server.request({ method: 'GET', path, auth: 'admin', headers });
const put = (path: string, request: CouchMultipartRequest, headers: Record<string, string> = {}) =>
  server.request({ method: 'PUT', path, auth: 'admin', body: request.body, headers: { ...request.headers, ...headers } });

const boundary = 'e2f6b4a1c3d5e7f9a0b2c4d6e8f0a1b3';
const hash1 = 'a'.repeat(32);
const hash2 = 'b'.repeat(32);
const notes = Buffer.from('Notes on the replication of attachments, compressed by CouchDB.\n'.repeat(20));
// gzip as CouchDB (and src/db/attachments.ts) writes it: level 8
const notesGzip = Buffer.from(pako.gzip(notes, { level: 8 }));
// binary bytes holding CRLF and "--" to show parts are split at the delimiter only
const picture = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x2d, 0x2d, 0x1a, 0x0a, 0x00, 0xff, 0x2d, 0x2d, 0x0d, 0x0a]);

/** The JSON CouchDB's replicator writes: `couch_doc:to_json_obj(Doc, [revs, attachments, follows, att_encoding_info])`. */
function pushedJson(id: string): string {
  return JSON.stringify({
    _id: id,
    _rev: `2-${hash2}`,
    title: 'pushed by CouchDB',
    _revisions: { start: 2, ids: [hash2, hash1] },
    _attachments: {
      'notes.txt': {
        content_type: 'text/plain',
        revpos: 2,
        digest: md5(notesGzip),
        length: notes.length,
        follows: true,
        encoding: 'gzip',
        encoded_length: notesGzip.length,
      },
      'picture.png': { content_type: 'image/png', revpos: 1, digest: md5(picture), length: picture.length, follows: true },
      'empty.bin': { content_type: 'application/octet-stream', revpos: 1, digest: md5(''), length: 0, follows: true },
    },
  });
}

function pushedRequest(id: string): CouchMultipartRequest {
  return couchMultipartRequest(boundary, pushedJson(id), [
    { name: 'notes.txt', contentType: 'text/plain', bytes: notesGzip, encoding: 'gzip' },
    { name: 'picture.png', contentType: 'image/png', bytes: picture },
    { name: 'empty.bin', contentType: 'application/octet-stream', bytes: Buffer.alloc(0) },
  ]);
}

test('a CouchDB replicator push: new_edits=false, gzip part stored as sent, revpos and history kept', async () => {
  const response = await put(`/${db}/pushed?new_edits=false`, pushedRequest('pushed'));
  assert.equal(response.status, 201, response.text);
  assert.deepEqual(response.json, { ok: true, id: 'pushed', rev: `2-${hash2}` });
  assert.equal(response.headers['etag'], `"2-${hash2}"`);

  const stubs = await get(`/${db}/pushed?revs=true&att_encoding_info=true`);
  assert.deepEqual(stubs.json, {
    _id: 'pushed',
    _rev: `2-${hash2}`,
    title: 'pushed by CouchDB',
    _revisions: { start: 2, ids: [hash2, hash1] },
    _attachments: {
      'notes.txt': {
        content_type: 'text/plain',
        revpos: 2,
        digest: md5(notesGzip),
        length: notes.length,
        stub: true,
        encoding: 'gzip',
        encoded_length: notesGzip.length,
      },
      'picture.png': { content_type: 'image/png', revpos: 1, digest: md5(picture), length: picture.length, stub: true },
      'empty.bin': { content_type: 'application/octet-stream', revpos: 1, digest: md5(''), length: 0, stub: true },
    },
  });

  const inline = await get(`/${db}/pushed?attachments=true`, { Accept: 'application/json' });
  const atts = (inline.json as { _attachments: Record<string, { data: string; digest: string }> })._attachments;
  assert.ok(Buffer.from(atts['notes.txt']?.data ?? '', 'base64').equals(notes));
  assert.ok(Buffer.from(atts['picture.png']?.data ?? '', 'base64').equals(picture));
  assert.equal(atts['empty.bin']?.data, '');

  const text = await get(`/${db}/pushed/notes.txt`);
  assert.equal(text.status, 200);
  assert.ok(text.bytes.equals(notes));
  assert.equal(text.headers['etag'], `"${md5(notesGzip).slice(4)}"`);
  const gzip = await get(`/${db}/pushed/notes.txt`, { 'Accept-Encoding': 'gzip' });
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  assert.ok(gzip.bytes.equals(notesGzip), 'the gzip bytes are served exactly as the replicator sent them');
  const png = await get(`/${db}/pushed/picture.png`);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.ok(png.bytes.equals(picture));
  assert.equal((await get(`/${db}/pushed/empty.bin`)).bytes.length, 0);
});

test("Settee's own multipart/related GET output is accepted back as a replicated PUT", async () => {
  const source = await get(`/${db}/pushed?attachments=true&revs=true`);
  assert.match(String(source.headers['content-type']), /^multipart\/related; boundary="/);
  const target = await createDb(server, 'mp-copy');
  const copied = await server.request({
    method: 'PUT',
    path: `/${target}/pushed?new_edits=false`,
    auth: 'admin',
    body: source.bytes,
    headers: { 'Content-Type': String(source.headers['content-type']) },
  });
  assert.equal(copied.status, 201, copied.text);
  const original = await get(`/${db}/pushed?revs=true&att_encoding_info=true`);
  const copy = await get(`/${target}/pushed?revs=true&att_encoding_info=true`);
  assert.deepEqual(copy.json, original.json);
  assert.ok((await get(`/${target}/pushed/picture.png`)).bytes.equals(picture));
});

test('interactive edits: a new document with two parts, then an update keeping one as a stub', async () => {
  const first = nanoMultipartRequest('nanoBoundary0123', JSON.stringify({
    kind: 'upload',
    _attachments: {
      'a.txt': { follows: true, length: 5, content_type: 'text/plain' },
      'b.bin': { follows: true, length: picture.length, content_type: 'application/octet-stream' },
    },
  }), [
    { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from('hello') },
    { name: 'b.bin', contentType: 'application/octet-stream', bytes: picture },
  ]);
  const created = await put(`/${db}/upload`, first);
  assert.equal(created.status, 201, created.text);
  const rev1 = (created.json as { rev: string }).rev;
  // the same document with inline data has the same revision: the parts are encoded and digested alike
  const inlineRev = await putDoc(server, `/${db}/upload-inline`, {
    kind: 'upload',
    _attachments: {
      'a.txt': { content_type: 'text/plain', data: Buffer.from('hello').toString('base64') },
      'b.bin': { content_type: 'application/octet-stream', data: picture.toString('base64') },
    },
  });
  assert.equal(rev1, inlineRev);
  const stubs1 = (await get(`/${db}/upload?att_encoding_info=true`)).json as { _attachments: Record<string, Record<string, unknown>> };
  const inlineStubs = (await get(`/${db}/upload-inline?att_encoding_info=true`)).json as { _attachments: unknown };
  assert.deepEqual(stubs1._attachments, inlineStubs._attachments);
  assert.equal(stubs1._attachments['a.txt']?.['encoding'], 'gzip', 'text is gzip-stored, as inline data is');

  const second = couchMultipartRequest('second-boundary', JSON.stringify({
    kind: 'upload',
    _attachments: {
      'a.txt': { stub: true },
      'c.txt': { follows: true, length: 3, content_type: 'text/plain', digest: md5('new') },
    },
  }), [{ name: 'c.txt', contentType: 'text/plain', bytes: Buffer.from('new') }]);
  const updated = await put(`/${db}/upload`, second, { 'If-Match': `"${rev1}"` });
  assert.equal(updated.status, 201, updated.text);
  const rev2 = (updated.json as { rev: string }).rev;
  assert.match(rev2, /^2-/);
  const stubs2 = (await get(`/${db}/upload`)).json as { _attachments: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(stubs2._attachments), ['a.txt', 'c.txt']);
  assert.equal(stubs2._attachments['a.txt']?.['revpos'], 1);
  assert.equal(stubs2._attachments['c.txt']?.['revpos'], 2);
  assert.equal((await get(`/${db}/upload/c.txt`)).text, 'new');
  assert.equal((await get(`/${db}/upload/a.txt`)).text, 'hello');

  // a stale revision is a conflict, as with a JSON body
  const stale = await put(`/${db}/upload?rev=${rev1}`, second);
  assert.equal(stale.status, 409);
});

test('parts without headers and an epilogue, as CouchDB\'s own tests send them', async () => {
  const json = JSON.stringify({
    note: 'headerless',
    _attachments: {
      'one.dat': { follows: true, content_type: 'application/x-test', length: 7 },
      'two.txt': { follows: true, content_type: 'text/plain', length: 9 },
    },
  });
  const body = `--xyz\r\ncontent-type: application/json\r\n\r\n${json}\r\n--xyz\r\n\r\nseven!!\r\n--xyz\r\n\r\nnine char\r\n--xyz--epilogue`;
  const response = await server.request({
    method: 'PUT',
    path: `/${db}/headerless`,
    auth: 'admin',
    body,
    headers: { 'Content-Type': 'multipart/related;boundary="xyz"' },
  });
  assert.equal(response.status, 201, response.text);
  assert.equal((await get(`/${db}/headerless/one.dat`)).text, 'seven!!');
  assert.equal((await get(`/${db}/headerless/two.txt`)).text, 'nine char');
  const stubs = (await get(`/${db}/headerless?att_encoding_info=true`)).json as { _attachments: Record<string, Record<string, unknown>> };
  assert.equal(stubs._attachments['one.dat']?.['encoding'], undefined);
  assert.equal(stubs._attachments['two.txt']?.['encoding'], 'gzip');
});

test('batch=ok is ignored for multipart bodies (as CouchDB does); design documents; ?rev=', async () => {
  const json = JSON.stringify({ _attachments: { 'x.txt': { follows: true, length: 1, content_type: 'text/plain' } } });
  const part = [{ name: 'x.txt', contentType: 'text/plain', bytes: Buffer.from('x') }];
  const batched = await put(`/${db}/batched?batch=ok`, couchMultipartRequest('bb', json, part));
  assert.equal(batched.status, 201, batched.text);
  assert.match((batched.json as { rev: string }).rev, /^1-/);
  const design = await put(`/${db}/_design/withatt`, couchMultipartRequest('dd', json, part));
  assert.equal(design.status, 201, design.text);
  assert.equal((await get(`/${db}/_design/withatt/x.txt`)).text, 'x');
  const rev = (design.json as { rev: string }).rev;
  const again = await put(`/${db}/_design/withatt?rev=${rev}`, couchMultipartRequest('dd', json, part));
  assert.equal(again.status, 201, again.text);
  const anonymous = await server.request({
    method: 'PUT',
    path: `/${db}/_design/other`,
    body: couchMultipartRequest('dd', json, part).body,
    headers: couchMultipartRequest('dd', json, part).headers,
    auth: 'nobody:wrong',
  });
  assert.equal(anonymous.status, 401);
});

test('errors: digest mismatch, missing and wrong-length parts, bad first part, malformed bodies, limits', async () => {
  const oneAttachment = (member: Record<string, unknown>): string =>
    JSON.stringify({ _id: 'e', _attachments: { 'a.txt': { content_type: 'text/plain', follows: true, ...member } } });
  const part = (bytes: string) => [{ name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from(bytes) }];
  const attempt = async (request: CouchMultipartRequest, query = '') => {
    const response = await put(`/${db}/e${query}`, request);
    return { status: response.status, ...errorOf(response) };
  };

  assert.deepEqual(await attempt(couchMultipartRequest('b1', oneAttachment({ length: 3, digest: md5('xyz') }), part('abc'))), {
    status: 400,
    error: 'content_md5_mismatch',
    reason: 'Possible message corruption.',
  });
  assert.deepEqual(await attempt(couchMultipartRequest('b1', oneAttachment({ length: 3 }), [])), {
    status: 400,
    error: 'bad_request',
    reason: 'attachment shorter than expected',
  });
  assert.deepEqual(await attempt(couchMultipartRequest('b1', oneAttachment({ length: 2 }), part('abc'))), {
    status: 400,
    error: 'bad_request',
    reason: 'attachment longer than expected',
  });
  assert.deepEqual(await attempt(couchMultipartRequest('b1', oneAttachment({ length: 9 }), part('abc'))), {
    status: 400,
    error: 'bad_request',
    reason: 'attachment shorter than expected',
  });
  // gzip parts must carry gzip bytes
  const notGzip = await attempt(couchMultipartRequest('b1', oneAttachment({ length: 3, encoding: 'gzip', encoded_length: 3 }), part('abc')));
  assert.deepEqual(notGzip, { status: 400, error: 'bad_request', reason: 'Invalid attachment data for a.txt' });

  // a first part that is not JSON (CouchDB: 415), or JSON that does not parse
  const notJson = Buffer.from('--b1\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b1--');
  assert.deepEqual(await attempt({ body: notJson, headers: { 'Content-Type': 'multipart/related; boundary=b1' } }), {
    status: 415,
    error: 'bad_content_type',
    reason: 'Content-Type must be application/json',
  });
  assert.deepEqual(await attempt(couchMultipartRequest('b1', '{"broken"', [])), { status: 400, error: 'bad_request', reason: 'invalid UTF-8 JSON' });

  // malformed bodies and boundaries
  const truncated = couchMultipartRequest('b1', oneAttachment({ length: 3 }), part('abc'));
  const cut = { body: truncated.body.subarray(0, truncated.body.length - 10), headers: { 'Content-Type': truncated.headers['Content-Type'] as string } };
  const malformed = await attempt(cut);
  assert.equal(malformed.status, 400);
  assert.match(malformed.reason, /^Malformed multipart\/related body/);
  const wrongBoundary = await attempt({ body: truncated.body, headers: { 'Content-Type': 'multipart/related; boundary=other' } });
  assert.equal(wrongBoundary.status, 400);
  const noBoundary = await attempt({ body: truncated.body, headers: { 'Content-Type': 'multipart/related' } });
  assert.equal(noBoundary.status, 400);
  assert.equal(noBoundary.error, 'bad_request');

  // the request size limit holds (413), and the document size limit applies to the JSON part
  const huge = couchMultipartRequest('b1', oneAttachment({ length: requestBytesMax }), part('x'.repeat(requestBytesMax)));
  assert.deepEqual(await attempt(huge), { status: 413, error: 'too_large', reason: 'the request entity is too large' });
  const bigJson = JSON.stringify({ filler: 'x'.repeat(docBytesMax), _attachments: { 'a.txt': { follows: true, length: 3 } } });
  assert.deepEqual(await attempt(couchMultipartRequest('b1', bigJson, part('abc'))), { status: 413, error: 'document_too_large', reason: 'e' });

  // new_edits=false still needs a revision
  const replicated = await attempt(couchMultipartRequest('b1', oneAttachment({ length: 3 }), part('abc')), '?new_edits=false');
  assert.equal(replicated.status, 400);
  assert.match(replicated.reason, /needs `_rev` or `_revisions`/);

  // the plain JSON form keeps its error for `follows`
  const plain = await server.request({ method: 'PUT', path: `/${db}/e`, auth: 'admin', body: JSON.parse(oneAttachment({ length: 3 })) as object });
  assert.deepEqual(errorOf(plain), { error: 'bad_request', reason: 'Attachment a.txt follows, but the request is not multipart' });
  assert.equal((await get(`/${db}/e`)).status, 404, 'nothing was written');

  // extra parts are ignored, as CouchDB never reads past the last attachment
  const extra = await put(`/${db}/e`, couchMultipartRequest('b1', oneAttachment({ length: 3 }), [...part('abc'), ...part('surplus')]));
  assert.equal(extra.status, 201, extra.text);
  assert.equal((await get(`/${db}/e/a.txt`)).text, 'abc');
});
