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

test('followed parts: matched by order, identity encoded like inline data, gzip kept as sent, revpos kept', () => {
  const gzipped = pako.gzip(Buffer.from('{"a":1}'), { level: 8 });
  const md5 = (bytes: Uint8Array): string => `md5-${createHash('md5').update(bytes).digest('base64')}`;
  const inputs = parseAttachmentInputs(
    {
      'kept.txt': { stub: true },
      'raw.txt': { content_type: 'text/plain', length: 11, follows: true, digest: md5(Buffer.from('hello world')) },
      'z.json': {
        content_type: 'application/json',
        revpos: 3,
        digest: md5(gzipped),
        length: 7,
        follows: true,
        encoding: 'gzip',
        encoded_length: gzipped.length,
      },
      'inline.bin': { data: 'AAEC' },
      'img.png': { content_type: 'image/png', follows: true },
    },
    { followed: [Buffer.from('hello world'), gzipped, Buffer.from('PNG'), Buffer.from('an extra part, ignored')] },
  );
  assert.deepEqual(inputs[0], { kind: 'stub', name: 'kept.txt' });
  // identity parts go through encodeAttachment, exactly as decoded base64 does
  assert.deepEqual(inputs[1], encodeAttachment('raw.txt', 'text/plain', Buffer.from('hello world')));
  const json = inputs[2];
  assert.ok(json?.kind === 'data');
  assert.deepEqual(json.meta, { name: 'z.json', contentType: 'application/json', digest: md5(gzipped), length: 7, encoding: 'gzip', encodedLength: gzipped.length });
  assert.equal(json.revpos, 3);
  assert.equal(Buffer.from(json.bytes).equals(Buffer.from(gzipped)), true);
  assert.equal(inputs[3]?.kind, 'data');
  // without `length` the part is taken as it is
  assert.deepEqual(inputs[4], encodeAttachment('img.png', 'image/png', Buffer.from('PNG')));
});

test('followed parts: CouchDB errors for lengths, missing parts, digests, encodings', () => {
  const one = (member: Record<string, unknown>, parts: Uint8Array[]) => () =>
    parseAttachmentInputs({ 'a.txt': { content_type: 'text/plain', follows: true, ...member } as never }, { followed: parts });
  assert.throws(one({ length: 3 }, []), { status: 400, error: 'bad_request', reason: 'attachment shorter than expected' });
  assert.throws(one({ length: 3 }, [Buffer.from('ab')]), { status: 400, reason: 'attachment shorter than expected' });
  assert.throws(one({ length: 3 }, [Buffer.from('abcd')]), { status: 400, reason: 'attachment longer than expected' });
  // a zero-length attachment needs no part (CouchDB reads no bytes for it)
  assert.equal(parseAttachmentInputs({ e: { follows: true, length: 0 } }, { followed: [] }).length, 1);
  const mismatch = { status: 400, error: 'content_md5_mismatch', reason: 'Possible message corruption.' };
  assert.throws(one({ length: 3, digest: 'md5-AAAAAAAAAAAAAAAAAAAAAA==' }, [Buffer.from('abc')]), mismatch);
  // the digest of the received (identity) bytes, not of the gzip Settee stores
  const abcDigest = `md5-${createHash('md5').update('abc').digest('base64')}`;
  const stored = encodeAttachment('a.txt', 'text/plain', Buffer.from('abc'));
  assert.doesNotThrow(one({ length: 3, digest: abcDigest }, [Buffer.from('abc')]));
  assert.throws(one({ length: 3, digest: stored.meta.digest }, [Buffer.from('abc')]), mismatch);
  // digests other than md5- are not checked, as in CouchDB
  assert.doesNotThrow(one({ length: 3, digest: 'sha-whatever' }, [Buffer.from('abc')]));
  const gzipped = pako.gzip(Buffer.from('abc'), { level: 8 });
  assert.throws(one({ length: 3, encoding: 'gzip', encoded_length: gzipped.length + 1 }, [gzipped]), { reason: 'attachment shorter than expected' });
  assert.throws(one({ length: 3, encoding: 'gzip' }, [gzipped]), { reason: 'attachment longer than expected' });
  assert.throws(one({ encoding: 'gzip', encoded_length: 3 }, [Buffer.from('abc')]), { reason: 'Invalid attachment data for a.txt' });
  assert.throws(one({ length: 3, encoding: 'gzip', encoded_length: 3 }, [Buffer.from('abc')]), { reason: 'Invalid attachment data for a.txt' });
  assert.throws(one({ length: 3, encoding: 'br' }, [Buffer.from('abc')]), { status: 400, reason: 'Attachment a.txt has an unsupported encoding: br' });
  assert.throws(one({ length: '3' }, [Buffer.from('abc')]), { reason: 'Invalid attachment data for a.txt' });
  assert.throws(one({ length: -1 }, [Buffer.from('abc')]), { reason: 'Invalid attachment data for a.txt' });
  // a plain JSON body cannot have attachments that follow
  assert.throws(() => parseAttachmentInputs({ 'a.txt': { follows: true, length: 1 } }), {
    status: 400,
    reason: 'Attachment a.txt follows, but the request is not multipart',
  });
});
