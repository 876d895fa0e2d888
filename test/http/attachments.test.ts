/** Attachments over HTTP: inline and standalone writes, reads, ranges, stubs, replicated writes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { createDb, errorOf, putDoc } from './doc-support.js';

let server: TestServer;
let db: string;

before(async () => {
  server = await startTestServer();
  db = await createDb(server, 'atts');
});
after(async () => {
  await server.close();
});

const get = (path: string, headers: Record<string, string> = {}) => server.request({ method: 'GET', path, auth: 'admin', headers });

test('inline attachments: CouchDB revision, stubs, raw GET with headers, gzip as stored when accepted', async () => {
  const rev = await putDoc(server, `/${db}/d`, {
    title: 't',
    _attachments: { 'hello.txt': { content_type: 'text/plain', data: 'aGVsbG8gd29ybGQ=' } },
  });
  assert.equal(rev, '1-390a6b2f3740cd22e9d0f9af7c520d62');
  const doc = await get(`/${db}/d`);
  assert.equal(
    doc.text,
    '{"_id":"d","_rev":"1-390a6b2f3740cd22e9d0f9af7c520d62","title":"t","_attachments":{"hello.txt":' +
      '{"content_type":"text/plain","revpos":1,"digest":"md5-7mkg+nM0HN26sZkLN8KVSA==","length":11,"stub":true}}}\n',
  );
  const raw = await get(`/${db}/d/hello.txt`);
  assert.equal(raw.status, 200);
  assert.equal(raw.text, 'hello world');
  assert.equal(raw.headers['etag'], '"7mkg+nM0HN26sZkLN8KVSA=="');
  assert.equal(raw.headers['content-type'], 'text/plain');
  assert.equal(raw.headers['content-security-policy'], 'sandbox');
  assert.equal(raw.headers['accept-ranges'], 'none');
  const gzip = await get(`/${db}/d/hello.txt`, { 'Accept-Encoding': 'gzip' });
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  assert.equal(gzip.headers['content-length'], '31');
  const cached = await get(`/${db}/d/hello.txt`, { 'If-None-Match': '"7mkg+nM0HN26sZkLN8KVSA=="' });
  assert.equal(cached.status, 304);
  const inline = await get(`/${db}/d?attachments=true`, { Accept: 'application/json' });
  assert.match(inline.text, /"hello.txt":\{"content_type":"text\/plain","revpos":1,"digest":"md5-7mkg\+nM0HN26sZkLN8KVSA==","data":"aGVsbG8gd29ybGQ="\}/);
  const info = await get(`/${db}/d?att_encoding_info=true`);
  assert.match(info.text, /"stub":true,"encoding":"gzip","encoded_length":31\}/);
  const related = await get(`/${db}/d?attachments=true`);
  assert.match(String(related.headers['content-type']), /^multipart\/related; boundary="[0-9a-f]{32}"$/);
  assert.match(related.text, /"follows":true,"encoding":"gzip","encoded_length":31/);
});

test('ranges on identity-stored attachments; 416 past the end', async () => {
  await putDoc(server, `/${db}/r`, { _attachments: { 'r.bin': { content_type: 'application/octet-stream', data: 'MDEyMzQ1Njc4OQ==' } } });
  const part = await get(`/${db}/r/r.bin`, { Range: 'bytes=2-5' });
  assert.equal(part.status, 206);
  assert.equal(part.text, '2345');
  assert.equal(part.headers['content-range'], 'bytes 2-5/10');
  assert.equal((await get(`/${db}/r/r.bin`, { Range: 'bytes=8-' })).text, '89');
  assert.equal((await get(`/${db}/r/r.bin`, { Range: 'bytes=-3' })).text, '789');
  const beyond = await get(`/${db}/r/r.bin`, { Range: 'bytes=50-60' });
  assert.equal(beyond.status, 416);
  assert.deepEqual(errorOf(beyond), { error: 'requested_range_not_satisfiable', reason: 'Requested range not satisfiable' });
});

test('stubs keep revpos, atts_since, missing stubs are 412, omitting _attachments drops them', async () => {
  const rev1 = await putDoc(server, `/${db}/s`, { v: 1, _attachments: { 'a.txt': { content_type: 'text/plain', data: 'YWFh' } } });
  assert.equal(rev1, '1-d70318863f7a34b0ef192c60380c308d');
  const rev2 = await putDoc(server, `/${db}/s`, { _rev: rev1, v: 2, _attachments: { 'a.txt': { stub: true } } });
  assert.equal(rev2, '2-045c5593dcdbd589b2606336078ca316');
  const rev3 = await putDoc(server, `/${db}/s`, {
    _rev: rev2,
    v: 3,
    _attachments: { 'a.txt': { stub: true }, 'b.txt': { content_type: 'text/plain', data: 'YmJi' } },
  });
  assert.equal(rev3, '3-5f805a5fa899965cc58f6d66323a74c9');
  const since = await get(`/${db}/s?attachments=true&atts_since=${encodeURIComponent(JSON.stringify([rev2]))}`, { Accept: 'application/json' });
  const atts = (since.json as { _attachments: Record<string, Record<string, unknown>> })._attachments;
  assert.equal(atts['a.txt']?.['stub'], true);
  assert.equal(atts['b.txt']?.['data'], 'YmJi');
  const missing = await server.request({ method: 'PUT', path: `/${db}/s`, auth: 'admin', body: { _rev: rev3, _attachments: { 'zzz.txt': { stub: true } } } });
  assert.equal(missing.status, 412);
  assert.deepEqual(errorOf(missing), { error: 'missing_stub', reason: 'Invalid attachment stub in s for zzz.txt' });
  const rev4 = await putDoc(server, `/${db}/s`, { _rev: rev3, v: 4 });
  assert.equal(rev4, '4-9060aa15b7d5f669f25210d51cfc659a');
  assert.equal((await get(`/${db}/s`)).text, `{"_id":"s","_rev":"${rev4}","v":4}\n`);
  assert.equal((await get(`/${db}/s/a.txt?rev=${rev3}`)).text, 'aaa', 'older revisions keep their attachments');
});

test('bad attachments are 400s', async () => {
  const bad = await server.request({ method: 'PUT', path: `/${db}/bad`, auth: 'admin', body: { _attachments: { 'x.txt': { data: '!!' } } } });
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).reason, 'Invalid attachment data for x.txt');
  const name = await server.request({ method: 'PUT', path: `/${db}/bad`, auth: 'admin', body: { _attachments: { '_x.txt': { data: 'YWFh' } } } });
  assert.equal(errorOf(name).reason, "Attachment name '_x.txt' starts with prohibited character '_'");
});

test('standalone PUT and DELETE of attachments', async () => {
  const created = await server.request({
    method: 'PUT',
    path: `/${db}/up/dir/note.txt`,
    auth: 'admin',
    body: 'note',
    headers: { 'Content-Type': 'text/plain' },
  });
  assert.equal(created.status, 201, created.text);
  assert.match(String(created.headers['location']), new RegExp(`/${db}/up/dir/note.txt$`));
  assert.equal(created.headers['etag'], undefined);
  const rev1 = (created.json as { rev: string }).rev;
  const noRev = await server.request({ method: 'PUT', path: `/${db}/up/b.bin`, auth: 'admin', body: 'x' });
  assert.equal(noRev.status, 409);
  const second = await server.request({ method: 'PUT', path: `/${db}/up/b.bin?rev=${rev1}`, auth: 'admin', body: Buffer.from([1, 2, 3]) });
  assert.equal(second.status, 201, second.text);
  const rev2 = (second.json as { rev: string }).rev;
  const doc = (await get(`/${db}/up`)).json as { _attachments: Record<string, { content_type: string; revpos: number }> };
  assert.deepEqual(Object.keys(doc._attachments), ['b.bin', 'dir/note.txt']);
  assert.equal(doc._attachments['b.bin']?.content_type, 'application/octet-stream');
  assert.equal(doc._attachments['dir/note.txt']?.revpos, 1);
  assert.equal((await get(`/${db}/up/dir%2Fnote.txt`)).text, 'note');
  const withoutRev = await server.request({ method: 'DELETE', path: `/${db}/up/b.bin`, auth: 'admin' });
  assert.equal(withoutRev.status, 409);
  const removed = await server.request({ method: 'DELETE', path: `/${db}/up/b.bin?rev=${rev2}`, auth: 'admin' });
  assert.equal(removed.status, 200, removed.text);
  const gone = await get(`/${db}/up/b.bin`);
  assert.equal(gone.status, 404);
  assert.equal(errorOf(gone).reason, 'Document is missing attachment');
  const rev3 = (removed.json as { rev: string }).rev;
  const again = await server.request({ method: 'DELETE', path: `/${db}/up/b.bin?rev=${rev3}`, auth: 'admin' });
  assert.equal(again.status, 404);
  const local = await server.request({ method: 'PUT', path: `/${db}/_local/x/a.txt`, auth: 'admin', body: 'x' });
  assert.equal(local.status, 400);
});

test('replicated writes: data with its revpos, stubs the target already has, stubs it lacks', async () => {
  const target = await createDb(server, 'atts_target');
  const h = (char: string) => char.repeat(32);
  const first = await server.request({
    method: 'POST',
    path: `/${target}/_bulk_docs`,
    auth: 'admin',
    body: {
      new_edits: false,
      docs: [{ _id: 'x', _rev: `2-${h('b')}`, _revisions: { start: 2, ids: [h('b'), h('a')] }, _attachments: { 'a.txt': { content_type: 'text/plain', revpos: 1, digest: 'md5-L0DKq4wf5D3fSMM+3izUUQ==', data: 'YWFh' } } }],
    },
  });
  assert.equal(first.status, 201, first.text);
  const stubbed = await server.request({
    method: 'POST',
    path: `/${target}/_bulk_docs`,
    auth: 'admin',
    body: {
      new_edits: false,
      docs: [
        { _id: 'x', _rev: `3-${h('c')}`, _revisions: { start: 3, ids: [h('c'), h('b')] }, _attachments: { 'a.txt': { stub: true } } },
        { _id: 'y', _rev: `3-${h('c')}`, _revisions: { start: 3, ids: [h('c'), h('b')] }, _attachments: { 'a.txt': { stub: true } } },
      ],
    },
  });
  assert.equal(stubbed.status, 201);
  assert.deepEqual(stubbed.json, [{ id: 'y', rev: `3-${h('c')}`, error: 'missing_stub', reason: 'Invalid attachment stub in y for a.txt' }]);
  const doc = (await get(`/${target}/x`)).json as { _attachments: Record<string, { revpos: number; digest: string }> };
  assert.equal(doc._attachments['a.txt']?.revpos, 1);
  assert.equal(doc._attachments['a.txt']?.digest, 'md5-L0DKq4wf5D3fSMM+3izUUQ==');
  assert.equal((await get(`/${target}/x/a.txt`)).text, 'aaa');
  const bulkGet = await server.request({
    method: 'POST',
    path: `/${target}/_bulk_get?revs=true&attachments=true`,
    auth: 'admin',
    body: { docs: [{ id: 'x', rev: `3-${h('c')}` }, { id: 'x', rev: `3-${h('c')}`, atts_since: [`2-${h('b')}`] }] },
  });
  const results = (bulkGet.json as { results: { docs: { ok: { _attachments: Record<string, Record<string, unknown>> } }[] }[] }).results;
  assert.equal(results[0]?.docs[0]?.ok._attachments['a.txt']?.['data'], 'YWFh');
  assert.equal(results[1]?.docs[0]?.ok._attachments['a.txt']?.['stub'], true);
});

test('compaction keeps the attachments of current revisions', async () => {
  const rev1 = await putDoc(server, `/${db}/c`, { _attachments: { 'a.bin': { data: 'AAEC' }, 'b.bin': { data: 'AwQF' } } });
  await putDoc(server, `/${db}/c`, { _rev: rev1, _attachments: { 'a.bin': { stub: true } } });
  const compact = await server.request({ method: 'POST', path: `/${db}/_compact`, auth: 'admin', headers: { 'Content-Type': 'application/json' } });
  assert.equal(compact.status, 202, compact.text);
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = (await get(`/${db}`)).json as { compact_running: boolean };
    if (!info.compact_running) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal((await get(`/${db}/c/a.bin`)).status, 200);
  assert.equal((await get(`/${db}/c/b.bin?rev=${rev1}`)).status, 404, 'the compacted revision is gone');
});

test('open_revs as multipart/mixed sends attachment data as CouchDB does, whatever attachments= says', async () => {
  const text = 'hello multipart, compressed when stored\n'.repeat(8);
  const rev1 = await putDoc(server, `/${db}/mm`, {
    v: 1,
    _attachments: {
      'a.txt': { content_type: 'text/plain', data: Buffer.from(text).toString('base64') },
      'b.bin': { content_type: 'application/octet-stream', data: 'AAEC' },
    },
  });
  const rev2 = await putDoc(server, `/${db}/mm`, {
    _rev: rev1,
    v: 2,
    _attachments: { 'a.txt': { stub: true }, 'b.bin': { stub: true }, 'c.bin': { content_type: 'application/octet-stream', data: 'Yw==' } },
  });
  const gzip = (await get(`/${db}/mm/a.txt`, { 'Accept-Encoding': 'gzip' })).bytes;
  const stubs = (await get(`/${db}/mm?att_encoding_info=true`)).json as { _attachments: Record<string, Record<string, unknown>> };
  const meta = (name: string) => JSON.stringify(stubs._attachments[name]).replace(/,"stub":true/, '').replace(/^\{|\}$/g, '');
  const follows = (name: string) => meta(name).replace(/("length":\d+)/, '$1,"follows":true');
  const openRevs = (query: string) => get(`/${db}/mm?open_revs=${encodeURIComponent(JSON.stringify([rev2]))}&revs=true&latest=true${query}`, { Accept: 'multipart/mixed' });

  // CouchDB's replicator asks without attachments=true: every attachment follows, gzip ones as stored
  const all = await openRevs('');
  const outer = /^multipart\/mixed; boundary="([0-9a-f]{32})"$/.exec(String(all.headers['content-type']))?.[1] ?? '';
  const inner = /^--[0-9a-f]{32}\r\nContent-Type: multipart\/related; boundary="([0-9a-f]{32})"\r\n\r\n/.exec(all.bytes.toString('latin1'))?.[1] ?? '';
  assert.notEqual(outer, '');
  assert.notEqual(inner, '');
  const revisions = `"_revisions":{"start":2,"ids":["${rev2.slice(2)}","${rev1.slice(2)}"]}`;
  const json = `{"_id":"mm","_rev":"${rev2}","v":2,${revisions},"_attachments":{"a.txt":{${follows('a.txt')}},"b.bin":{${follows('b.bin')}},"c.bin":{${follows('c.bin')}}}}`;
  const part = (name: string, type: string, bytes: Buffer, encoded: boolean) =>
    Buffer.concat([
      Buffer.from(`\r\n--${inner}\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}`),
      Buffer.from(encoded ? '\r\nContent-Encoding: gzip\r\n\r\n' : '\r\n\r\n'),
      bytes,
    ]);
  const expected = Buffer.concat([
    Buffer.from(`--${outer}\r\nContent-Type: multipart/related; boundary="${inner}"\r\n\r\n--${inner}\r\nContent-Type: application/json\r\n\r\n${json}`),
    part('a.txt', 'text/plain', gzip, true),
    part('b.bin', 'application/octet-stream', Buffer.from([0, 1, 2]), false),
    part('c.bin', 'application/octet-stream', Buffer.from('c'), false),
    Buffer.from(`\r\n--${inner}--\r\n--${outer}--`),
  ]);
  assert.equal(all.bytes.toString('latin1'), expected.toString('latin1'));
  assert.ok(stubs._attachments['a.txt']?.['encoding'] === 'gzip', 'the text attachment is stored gzip-compressed');

  // atts_since: older attachments are stubs with their encoding info; nothing to follow is a plain JSON part
  const since = await openRevs(`&atts_since=${encodeURIComponent(JSON.stringify([rev1]))}`);
  assert.ok(since.text.includes(`"a.txt":${JSON.stringify(stubs._attachments['a.txt'])}`), 'a stub with its encoding info');
  assert.match(since.text, /filename="c\.bin"/);
  assert.doesNotMatch(since.text, /filename="(a\.txt|b\.bin)"/);
  const none = await openRevs(`&atts_since=${encodeURIComponent(JSON.stringify([rev2]))}`);
  assert.match(none.text, /^--[0-9a-f]{32}\r\nContent-Type: application\/json\r\n\r\n\{"_id":"mm".*"stub":true.*\}\r\n--[0-9a-f]{32}--$/s);
});
