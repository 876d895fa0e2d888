/** Attachment encoding, parsing, stored metadata and stub merging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pako from 'pako';
import { decodeMetas, decodeStoredBytes, encodeAttachment, encodeMetas, isCompressible, parseAttachmentInputs } from './attachments.js';
import type { AttachmentMeta } from './attachments.js';
import { mergeAttachments } from './attachments-merge.js';
import { attachmentStubsJson } from './attachments-render.js';
import { CouchError } from '../core/errors.js';

test('compressible types are gzip-stored and digested as CouchDB does', () => {
  const text = encodeAttachment('hello.txt', 'text/plain', Buffer.from('hello world'));
  assert.equal(text.meta.digest, 'md5-7mkg+nM0HN26sZkLN8KVSA==');
  assert.equal(text.meta.length, 11);
  assert.equal(text.meta.encoding, 'gzip');
  assert.equal(text.meta.encodedLength, 31);
  assert.equal(Buffer.from(pako.ungzip(text.bytes)).toString(), 'hello world');
  const binary = encodeAttachment('r.bin', 'application/octet-stream', Buffer.from('0123456789'));
  assert.equal(binary.meta.digest, 'md5-eB5eJF1ptWaXm4bijSPyxw==');
  assert.equal(binary.meta.encoding, undefined);
  assert.equal(binary.meta.digest, `md5-${createHash('md5').update('0123456789').digest('base64')}`);
  for (const type of ['text/html', 'application/json', 'application/javascript', 'application/xml', 'text/plain; charset=utf-8']) {
    assert.ok(isCompressible(type), type);
  }
  for (const type of ['image/png', 'application/octet-stream', 'application/pdf']) assert.ok(!isCompressible(type), type);
});

test('parsing: stubs, data, default content type, errors', () => {
  const inputs = parseAttachmentInputs({
    'b.txt': { content_type: 'text/plain', data: 'YmJi' },
    'a.txt': { stub: true },
    'raw': { data: 'AAEC' },
  });
  assert.deepEqual(
    inputs.map((input) => (input.kind === 'stub' ? `stub:${input.name}` : `${input.meta.name}:${input.meta.contentType}`)),
    ['b.txt:text/plain', 'stub:a.txt', 'raw:application/octet-stream'],
  );
  const invalid = { status: 400, error: 'bad_request', reason: 'Invalid attachment data for x.txt' };
  assert.throws(() => parseAttachmentInputs({ 'x.txt': { content_type: 'text/plain' } }), invalid);
  assert.throws(() => parseAttachmentInputs({ 'x.txt': { data: 'not base64!' } }), invalid);
  assert.throws(() => parseAttachmentInputs({ 'x.txt': { data: 'abcde' } }), invalid);
  assert.throws(() => parseAttachmentInputs({ '_bad.txt': { data: 'YWFh' } }), {
    status: 400,
    reason: "Attachment name '_bad.txt' starts with prohibited character '_'",
  });
});

test('stored metadata round-trips, in order, and renders as stubs', () => {
  const metas: AttachmentMeta[] = [
    { name: 'z', contentType: 'text/plain', revpos: 2, digest: 'md5-x', length: 3, encoding: 'gzip', encodedLength: 23 },
    { name: '1', contentType: 'image/png', revpos: 1, digest: 'md5-y', length: 12 },
  ];
  const json = encodeMetas(metas);
  assert.deepEqual(decodeMetas(json), metas);
  assert.equal(
    attachmentStubsJson(json),
    '{"z":{"content_type":"text/plain","revpos":2,"digest":"md5-x","length":3,"stub":true},' +
      '"1":{"content_type":"image/png","revpos":1,"digest":"md5-y","length":12,"stub":true}}',
  );
  assert.equal(encodeMetas([]), '{}');
  assert.equal(attachmentStubsJson('{}'), '{}');
  assert.equal(Buffer.from(decodeStoredBytes(metas[1] as AttachmentMeta, new Uint8Array([1, 2]))).length, 2);
});

test('merging: stubs keep the parent attachment, new data gets the new revpos, unknown stubs are 412', () => {
  const previous: AttachmentMeta[] = [{ name: 'a.txt', contentType: 'text/plain', revpos: 1, digest: 'md5-a', length: 3 }];
  const inputs = parseAttachmentInputs({ 'a.txt': { stub: true }, 'b.bin': { data: 'YmJi', revpos: 7 } });
  const merged = mergeAttachments(inputs, { docId: 'd', pos: 3, previous, keepRevpos: false });
  assert.ok(!(merged instanceof CouchError));
  assert.deepEqual(merged.metas.map((meta) => [meta.name, meta.revpos]), [['a.txt', 1], ['b.bin', 3]]);
  assert.equal(merged.data.length, 1);
  const replicated = mergeAttachments(inputs, { docId: 'd', pos: 9, previous, keepRevpos: true });
  assert.ok(!(replicated instanceof CouchError));
  assert.equal(replicated.metas[1]?.revpos, 7);
  const missing = mergeAttachments(parseAttachmentInputs({ 'zzz.txt': { stub: true } }), { docId: 'd', pos: 2, previous, keepRevpos: false });
  assert.ok(missing instanceof CouchError);
  assert.equal(missing.status, 412);
  assert.equal(missing.error, 'missing_stub');
  assert.equal(missing.reason, 'Invalid attachment stub in d for zzz.txt');
});
