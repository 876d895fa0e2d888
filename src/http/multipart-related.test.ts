/** Reading `multipart/related` document bodies: boundaries, part order, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { couchMultipartRequest, nanoMultipartRequest } from '../../test/support/couch-multipart.js';
import { defaultHttpLimits } from '../core/limits.js';
import type { MultipartSplitOptions } from './multipart-related.js';
import { isMultipartRelated, multipartBoundary, parseMultipartRelated as parseWithLimits } from './multipart-related.js';

const limits: MultipartSplitOptions = {
  partsMax: defaultHttpLimits.multipartPartsMax,
  partHeaderBytesMax: defaultHttpLimits.multipartPartHeaderBytesMax,
};
const parseMultipartRelated = (body: Buffer, boundary: string, options: Partial<MultipartSplitOptions> = {}) =>
  parseWithLimits(body, boundary, { ...limits, ...options });

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

test('isMultipartRelated: the media type, any case, any parameters', () => {
  assert.ok(isMultipartRelated('multipart/related; boundary=x'));
  assert.ok(isMultipartRelated('Multipart/Related;boundary="x"'));
  assert.ok(isMultipartRelated('multipart/related'));
  assert.ok(!isMultipartRelated('multipart/mixed; boundary=x'));
  assert.ok(!isMultipartRelated('application/json'));
  assert.ok(!isMultipartRelated(undefined));
});

test('multipartBoundary: quoted or not, any parameter order, escapes; 400 without a usable one', () => {
  assert.equal(multipartBoundary('multipart/related; boundary="abc123"'), 'abc123');
  assert.equal(multipartBoundary('multipart/related; boundary=abc123'), 'abc123');
  assert.equal(multipartBoundary('multipart/related;boundary=abc123 ; type=application/json'), 'abc123');
  assert.equal(multipartBoundary('multipart/related; type="application/json"; BOUNDARY="a b;c"'), 'a b;c');
  assert.equal(multipartBoundary('multipart/related; boundary="a\\"b"'), 'a"b');
  // a parameter whose name merely ends in "boundary" is not the boundary
  assert.equal(multipartBoundary('multipart/related; xboundary=wrong; boundary=right'), 'right');
  const refused = { status: 400, error: 'bad_request' };
  assert.throws(() => multipartBoundary('multipart/related'), refused);
  assert.throws(() => multipartBoundary('multipart/related; boundary='), refused);
  assert.throws(() => multipartBoundary('multipart/related; boundary=""'), refused);
  assert.throws(() => multipartBoundary('multipart/related; xboundary=abc'), refused);
  assert.throws(() => multipartBoundary(`multipart/related; boundary=${'b'.repeat(71)}`), refused);
  assert.equal(multipartBoundary(`multipart/related; boundary=${'b'.repeat(70)}`), 'b'.repeat(70));
});

test('parts in order, as CouchDB writes them: the JSON, then each attachment, headers ignored', () => {
  const request = couchMultipartRequest('0f1e2d3c4b5a69788796a5b4c3d2e1f0', '{"_id":"d"}', [
    { name: 'b.bin', contentType: 'application/octet-stream', bytes: Buffer.from([0, 1, 2, 13, 10, 45, 45]) },
    { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from('second'), encoding: 'gzip' },
    { name: 'empty', contentType: 'text/plain', bytes: Buffer.alloc(0) },
  ]);
  const parsed = parseMultipartRelated(request.body, '0f1e2d3c4b5a69788796a5b4c3d2e1f0');
  assert.equal(parsed.documentJson.toString(), '{"_id":"d"}');
  assert.deepEqual(parsed.attachmentParts.map(text), ['\x00\x01\x02\r\n--', 'second', '']);
});

test('nano form: lower-case headers, unquoted boundary, CRLF after the end; a preamble is skipped', () => {
  const request = nanoMultipartRequest('Ab09Cd', '{"x":1}', [{ name: 'a', contentType: 'image/png', bytes: Buffer.from('png!') }]);
  const boundary = multipartBoundary(request.headers['Content-Type'] as string);
  const parsed = parseMultipartRelated(request.body, boundary);
  assert.equal(parsed.documentJson.toString(), '{"x":1}');
  assert.deepEqual(parsed.attachmentParts.map(text), ['png!']);
  const withPreamble = Buffer.concat([Buffer.from('This is a preamble.\r\n'), request.body]);
  assert.deepEqual(parseMultipartRelated(withPreamble, boundary).attachmentParts.map(text), ['png!']);
});

test('a document part with parameters in its Content-Type; without application/json it is 415', () => {
  const body = Buffer.from('--b\r\nContent-Type: Application/JSON; charset=utf-8\r\n\r\n{}\r\n--b--');
  assert.equal(parseMultipartRelated(body, 'b').documentJson.toString(), '{}');
  const unsupported = { status: 415, error: 'bad_content_type', reason: 'Content-Type must be application/json' };
  assert.throws(() => parseMultipartRelated(Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b--'), 'b'), unsupported);
  assert.throws(() => parseMultipartRelated(Buffer.from('--b\r\n\r\n{}\r\n--b--'), 'b'), unsupported);
});

test('a part without headers, as CouchDB accepts it', () => {
  const body = Buffer.from('--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n\r\nno headers\r\n\r\nat all\r\n--b\r\n\r\n\r\n--b--');
  assert.deepEqual(parseMultipartRelated(body, 'b').attachmentParts.map(text), ['no headers\r\n\r\nat all', '']);
  // "--b\r\n\r\n" inside a part (not after a line break) is data
  const inside = Buffer.from('--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\nX: y\r\n\r\nx--b\r\n\r\n\r\n--b--');
  assert.deepEqual(parseMultipartRelated(inside, 'b').attachmentParts.map(text), ['x--b\r\n\r\n']);
});

test('malformed bodies are 400s', () => {
  const malformed = (body: string, boundary = 'b'): void => {
    assert.throws(() => parseMultipartRelated(Buffer.from(body), boundary), (error: unknown) => {
      const couch = error as { status: number; error: string; reason: string };
      assert.equal(couch.status, 400, String(error));
      assert.equal(couch.error, 'bad_request');
      assert.match(couch.reason, /^Malformed multipart\/related body: /);
      return true;
    });
  };
  malformed('');
  malformed('{"just":"json"}');
  malformed('--other\r\nContent-Type: application/json\r\n\r\n{}\r\n--other--');
  // no closing delimiter
  malformed('--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n\r\nabc');
  // headers never end
  malformed('--b\r\nContent-Type: application/json');
  // closed before any part
  malformed('--b--');
  // part headers that are not UTF-8
  assert.throws(() => parseMultipartRelated(Buffer.from([...Buffer.from('--b\r\nX: '), 0xff, ...Buffer.from('\r\n\r\n{}\r\n--b--')]), 'b'), {
    status: 400,
  });
});

test('part headers are bounded (400)', () => {
  const body = Buffer.from(`--b\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(100)}\r\n\r\n{}\r\n--b--`);
  assert.equal(parseMultipartRelated(body, 'b', { partHeaderBytesMax: 200 }).documentJson.toString(), '{}');
  assert.throws(() => parseMultipartRelated(body, 'b', { partHeaderBytesMax: 100 }), { status: 400, error: 'bad_request' });
});

test('the number of parts is bounded (413)', () => {
  const request = couchMultipartRequest('b', '{}', [1, 2, 3].map((n) => ({ name: `a${n}`, contentType: 'text/plain', bytes: Buffer.from('x') })));
  assert.equal(parseMultipartRelated(request.body, 'b', { partsMax: 4 }).attachmentParts.length, 3);
  assert.throws(() => parseMultipartRelated(request.body, 'b', { partsMax: 3 }), { status: 413, error: 'too_large' });
});
