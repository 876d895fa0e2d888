/**
 * Named bad inputs (the fuzz test covers them at random): malformed JSON in
 * every form FINDINGS.md lists, wrong types, invalid UTF-8, bodies over
 * `requestBytesMax` / `docBytesMax`, nesting past `jsonDepthMax`, odd ids and
 * paths. Each must get a clean 4xx `{"error","reason"}`, and the server must
 * keep working afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLimits } from '../../src/core/limits.js';
import type { TestServer } from '../support/http.js';
import { basicAuth, startTestServer, testAdmin } from '../support/http.js';
import type { RawOutcome } from '../support/raw-client.js';
import { sendRaw } from '../support/raw-client.js';

const requestBytesMax = 64 * 1024;
const docBytesMax = 16 * 1024;
const attachmentBytesMax = 8 * 1024;
const db = 'bad-input';
const admin = basicAuth(`${testAdmin.name}:${testAdmin.password}`);

let server: TestServer;
before(async () => {
  server = await startTestServer({ config: { limits: { ...defaultLimits, requestBytesMax, docBytesMax, attachmentBytesMax } } });
  const created = await send('PUT', `/${db}`);
  assert.equal(created.status, 201, created.text);
});
after(async () => {
  await server.close();
});

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
}

async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, options: { chunked?: boolean } = {}): Promise<Answer> {
  const outcome: RawOutcome = await sendRaw(
    server.baseUrl,
    {
      method,
      path,
      headers: {
        Authorization: admin,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(options.chunked ? { 'Transfer-Encoding': 'chunked' } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }),
      ...(options.chunked ? { chunked: true } : {}),
    },
    5_000,
  );
  assert.equal(outcome.kind, 'response', `${method} ${path.slice(0, 100)}: ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'response') throw new Error('unreachable');
  let json: unknown;
  try {
    json = JSON.parse(outcome.text);
  } catch {
    json = undefined;
  }
  return { status: outcome.status, text: outcome.text, json, headers: outcome.headers };
}

/** A clean client error: the status, and a JSON `{"error","reason"}` body (exact values when given). */
function assertClientError(answer: Answer, status: number, expected?: { error: string; reason?: string }, context = ''): void {
  assert.equal(answer.status, status, `${context} → ${answer.status} ${answer.text}`);
  const body = answer.json as { error?: unknown; reason?: unknown } | undefined;
  assert.equal(typeof body?.error, 'string', `${context}: ${answer.text}`);
  assert.equal(typeof body?.reason, 'string', `${context}: ${answer.text}`);
  if (expected) {
    assert.equal(body?.error, expected.error, context);
    if (expected.reason !== undefined) assert.equal(body?.reason, expected.reason, context);
  }
}

async function assertStillServing(): Promise<void> {
  const up = await send('GET', '/_up');
  assert.equal(up.status, 200, up.text);
  const id = `alive-${Math.random().toString(16).slice(2)}`;
  const written = await send('PUT', `/${db}/${id}`, '{"alive":true}');
  assert.equal(written.status, 201, written.text);
  const read = await send('GET', `/${db}/${id}`);
  assert.equal(read.status, 200, read.text);
}

const invalidJson = { error: 'bad_request', reason: 'invalid UTF-8 JSON' };

/** Every malformed form FINDINGS.md lists (doc_malformed_json and the number/surrogate notes). */
const malformedBodies: ReadonlyArray<readonly [string, string]> = [
  ['truncated', '{"a":'],
  ['trailing garbage', '{"a":1}x'],
  ['trailing comma', '{"a":1,}'],
  ['NaN', '{"a":NaN}'],
  ['leading zero', '{"a":01}'],
  ['single quotes', "{'a':1}"],
  ['empty body', ''],
  ['lone surrogate', '{"a":"\\ud800"}'],
  ['overflowing number', '{"a":1e400}'],
  ['two values', '{"a":1}{"b":2}'],
];

describe('malformed JSON → 400 "invalid UTF-8 JSON"', () => {
  for (const [name, body] of malformedBodies) {
    test(`${name}: PUT doc, POST db, _bulk_docs`, async () => {
      assertClientError(await send('PUT', `/${db}/m`, body), 400, invalidJson, `PUT doc ${name}`);
      assertClientError(await send('POST', `/${db}`, body), 400, invalidJson, `POST db ${name}`);
      assertClientError(await send('POST', `/${db}/_bulk_docs`, body), 400, invalidJson, `_bulk_docs ${name}`);
    });
  }

  test('the read endpoints with bodies reject them the same way', async () => {
    for (const [name, body] of malformedBodies.filter(([label]) => label !== 'empty body')) {
      for (const endpoint of ['_all_docs', '_revs_diff', '_bulk_get']) {
        assertClientError(await send('POST', `/${db}/${endpoint}`, body), 400, invalidJson, `${endpoint} ${name}`);
      }
    }
  });

  test('nothing was written by any of them, and surrounding whitespace is fine', async () => {
    assertClientError(await send('GET', `/${db}/m`), 404, { error: 'not_found', reason: 'missing' });
    const spaced = await send('PUT', `/${db}/spaced`, '  {"a":1}  \n');
    assert.equal(spaced.status, 201, spaced.text);
    assert.equal((spaced.json as { rev: string }).rev, '1-23202479633c2b380f79507a776743d5');
  });

  test('invalid JSON in query parameters', async () => {
    assertClientError(await send('GET', `/${db}/_all_docs?startkey=b`), 400, invalidJson, 'startkey=b');
    assertClientError(await send('GET', `/${db}/_all_docs?key=nope`), 400, invalidJson, 'key=nope');
    assertClientError(await send('GET', `/${db}/spaced?open_revs=bogus`), 400, invalidJson, 'open_revs=bogus');
  });

  test('invalid UTF-8 bytes', async () => {
    const bodies = [
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), // {"a":"\xC3("}
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // an encoded surrogate
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), // an overlong '/'
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
    ];
    for (const body of bodies) {
      assertClientError(await send('PUT', `/${db}/utf8`, body), 400, invalidJson, `PUT ${body.toString('hex')}`);
      assertClientError(await send('POST', `/${db}/_bulk_docs`, body), 400, invalidJson, `_bulk_docs ${body.toString('hex')}`);
    }
  });
});

describe('wrong types', () => {
  test('documents must be objects', async () => {
    for (const body of ['[1]', '"str"', 'null', '1', 'true']) {
      assertClientError(await send('PUT', `/${db}/typed`, body), 400, { error: 'bad_request', reason: 'Document must be a JSON object' }, `PUT ${body}`);
      assertClientError(await send('POST', `/${db}`, body), 400, { error: 'bad_request', reason: 'Document must be a JSON object' }, `POST ${body}`);
    }
  });

  test('_bulk_docs shape errors', async () => {
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '[{"_id":"a"}]'), 400, { error: 'bad_request', reason: 'Request body must be a JSON object' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{}'), 400, { error: 'bad_request', reason: 'POST body must include `docs` parameter.' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{"docs":"x"}'), 400, { error: 'bad_request', reason: '`docs` parameter must be an array.' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{"docs":{}}'), 400, { error: 'bad_request', reason: '`docs` parameter must be an array.' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{"docs":[{"_id":1}]}'), 400, { error: 'illegal_docid', reason: 'Document id must be a string' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{"docs":[{"_id":"a","_rev":"bogus"}]}'), 400, { error: 'bad_request', reason: 'Invalid rev format' });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, '{"docs":[]}', { 'Content-Type': 'text/plain' }), 415, {
      error: 'bad_content_type',
      reason: 'Content-Type must be application/json',
    });
  });

  test('special members, ids and revs of the wrong type', async () => {
    assertClientError(await send('PUT', `/${db}/s`, '{"_deleted":"yes"}'), 400, { error: 'doc_validation', reason: 'Bad special document member: _deleted' });
    assertClientError(await send('PUT', `/${db}/s`, '{"_attachments":"nope"}'), 400, { error: 'doc_validation', reason: 'Bad special document member: _attachments' });
    assertClientError(await send('PUT', `/${db}/s`, '{"_foo":1}'), 400, { error: 'doc_validation', reason: 'Bad special document member: _foo' });
    assertClientError(await send('POST', `/${db}`, '{"_id":null}'), 400, { error: 'illegal_docid', reason: 'Document id must be a string' });
    assertClientError(await send('POST', `/${db}`, '{"_id":""}'), 400, { error: 'illegal_docid', reason: 'Document id must not be empty' });
    assertClientError(await send('PUT', `/${db}/s`, '{"_rev":1}'), 400, { error: 'bad_request', reason: 'Invalid rev format' });
    assertClientError(await send('PUT', `/${db}/s?rev=garbage`, '{}'), 400, { error: 'bad_request', reason: 'Invalid rev format' });
  });

  test('replication endpoints', async () => {
    assertClientError(await send('POST', `/${db}/_revs_diff`, '[1]'), 400, { error: 'bad_request', reason: 'Request body must be a JSON object' });
    assertClientError(await send('POST', `/${db}/_revs_diff`, '{"a":["bogus"]}'), 400, { error: 'bad_request', reason: 'Invalid rev format' });
    assertClientError(await send('POST', `/${db}/_bulk_get`, '{}'), 400, { error: 'bad_request', reason: "Missing JSON list of 'docs'." });
  });

  test('query parameters of the wrong type', async () => {
    assertClientError(await send('GET', `/${db}/_all_docs?limit=abc`), 400, { error: 'query_parse_error', reason: 'Invalid value for integer: "abc"' });
    assertClientError(await send('GET', `/${db}/_all_docs?limit=-1`), 400, { error: 'query_parse_error', reason: 'Invalid value for positive integer: "-1"' });
    assertClientError(await send('GET', `/${db}/_all_docs?descending=maybe`), 400, { error: 'query_parse_error', reason: 'Invalid boolean parameter: "maybe"' });
    assertClientError(await send('GET', `/${db}/_changes?since=garbage`), 400, { error: 'bad_request', reason: "Malformed sequence supplied in 'since' parameter." });
    assertClientError(await send('GET', `/${db}/_changes?feed=bogus`), 400, { error: 'bad_request' });
    assertClientError(await send('GET', '/_uuids?count=abc'), 400, { error: 'bad_request', reason: 'count must be a positive integer' });
    await assertStillServing();
  });

  test('integers beyond int64 in limit/skip are not a server error (found by the fuzz test)', async () => {
    // CouchDB parses them as bignums and answers 200; anything but a 5xx is acceptable here
    const huge = '99999999999999999999';
    for (const path of [
      `/_all_dbs?limit=${huge}`,
      `/_all_dbs?skip=${huge}`,
      `/_all_dbs?limit=9223372036854775807`,
      `/_dbs_info?limit=${huge}`,
      `/${db}/_all_docs?limit=${huge}`,
      `/${db}/_all_docs?skip=${huge}`,
      `/${db}/_changes?limit=${huge}`,
      `/${db}/_local_docs?limit=${huge}`,
      `/${db}/_design_docs?skip=${huge}`,
    ]) {
      const answer = await send('GET', path);
      assert.ok(answer.status < 500, `GET ${path} → ${answer.status} ${answer.text}`);
      if (answer.status >= 400) assertClientError(answer, answer.status, undefined, path);
    }
  });
});

describe('size and depth limits', () => {
  const oversizedDoc = `{"big":"${'x'.repeat(requestBytesMax + 1)}"}`;

  test('a body over requestBytesMax is 413 too_large, with Content-Length or chunked', async () => {
    const declared = await send('PUT', `/${db}/huge`, oversizedDoc);
    assertClientError(declared, 413, { error: 'too_large' }, 'PUT with Content-Length');
    assert.equal(declared.headers['connection'], 'close', 'the unread rest of the body must not be parsed as a request');
    assertClientError(await send('PUT', `/${db}/huge`, oversizedDoc, {}, { chunked: true }), 413, { error: 'too_large' }, 'PUT chunked');
    const bulk = `{"docs":[${Array.from({ length: 200 }, (_unused, index) => `{"_id":"b${index}","pad":"${'p'.repeat(400)}"}`).join(',')}]}`;
    assert.ok(bulk.length > requestBytesMax);
    assertClientError(await send('POST', `/${db}/_bulk_docs`, bulk), 413, { error: 'too_large' }, '_bulk_docs');
    assertClientError(await send('GET', `/${db}/huge`), 404, { error: 'not_found' });
    const bulkRead = await send('POST', `/${db}/_all_docs`, JSON.stringify({ keys: ['b0', 'b199'] }));
    assert.ok(!bulkRead.text.includes('"rev"'), `nothing of the oversized bulk was written: ${bulkRead.text}`);
    await assertStillServing();
  });

  test('a document over docBytesMax (under requestBytesMax) is 413', async () => {
    const body = `{"big":"${'y'.repeat(docBytesMax + 10)}"}`;
    const answer = await send('PUT', `/${db}/bigdoc`, body);
    assert.equal(answer.status, 413, answer.text);
    assert.ok(['too_large', 'document_too_large'].includes((answer.json as { error: string }).error), answer.text);
    await assertStillServing();
  });

  test('the document limit measures the body, not the attachments, in PUT, POST and _bulk_docs', async () => {
    const bigBody = { big: 'z'.repeat(docBytesMax + 10) };
    const tooLarge = { error: 'document_too_large' };
    assertClientError(await send('POST', `/${db}`, JSON.stringify({ _id: 'posted', ...bigBody })), 413, { ...tooLarge, reason: 'posted' });
    const bulk = JSON.stringify({ docs: [{ _id: 'small-1' }, { _id: 'bulky', ...bigBody }] });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, bulk), 413, { ...tooLarge, reason: 'bulky' });
    assertClientError(await send('GET', `/${db}/small-1`), 404, { error: 'not_found' });
    // An attachment under its own limit, in a request over the document limit: accepted (CouchDB sizes #doc.body).
    const data = Buffer.alloc(6000, 7).toString('base64');
    const attachment = { content_type: 'application/octet-stream', data };
    const withAttachment = JSON.stringify({ v: 1, _attachments: { 'a.bin': attachment, 'b.bin': attachment, 'c.bin': attachment } });
    assert.ok(Buffer.byteLength(withAttachment) > docBytesMax, 'the request is over the document limit');
    const written = await send('PUT', `/${db}/attached`, withAttachment);
    assert.equal(written.status, 201, written.text);
    await assertStillServing();
  });

  test('an attachment over attachmentBytesMax is 413 attachment_too_large, inline or uploaded', async () => {
    const data = Buffer.alloc(attachmentBytesMax + 1, 7);
    const inline = JSON.stringify({ _attachments: { 'big.bin': { content_type: 'application/octet-stream', data: data.toString('base64') } } });
    assertClientError(await send('PUT', `/${db}/att-inline`, inline), 413, { error: 'attachment_too_large', reason: 'big.bin' });
    const bulk = JSON.stringify({ docs: [{ _id: 'att-bulk', _attachments: { 'big.bin': { data: data.toString('base64') } } }] });
    assertClientError(await send('POST', `/${db}/_bulk_docs`, bulk), 413, { error: 'attachment_too_large', reason: 'big.bin' });
    const upload = await send('PUT', `/${db}/att-upload/big.bin`, data, { 'Content-Type': 'application/octet-stream' });
    assertClientError(upload, 413, { error: 'attachment_too_large', reason: 'big.bin' });
    for (const id of ['att-inline', 'att-bulk', 'att-upload']) assertClientError(await send('GET', `/${db}/${id}`), 404, { error: 'not_found' });
    await assertStillServing();
  });

  test('nesting past jsonDepthMax is a 400, far past it too (no stack overflow), within it round-trips', async () => {
    const nested = (depth: number): string => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const tooDeep = await send('PUT', `/${db}/deep`, nested(defaultLimits.jsonDepthMax + 1));
    assert.equal(tooDeep.status, 400, tooDeep.text);
    assertClientError(tooDeep, 400);
    // 7,000 levels: under docBytesMax, so only the depth bound can refuse it
    const farTooDeep = await send('PUT', `/${db}/deep`, nested(7_000));
    assertClientError(farTooDeep, 400, undefined, 'depth 7000');
    const bulkDeep = await send('POST', `/${db}/_bulk_docs`, `{"docs":[${nested(7_000)}]}`);
    assertClientError(bulkDeep, 400, undefined, '_bulk_docs depth 7000');
    const fine = await send('PUT', `/${db}/deep`, nested(100));
    assert.equal(fine.status, 201, fine.text);
    const read = await send('GET', `/${db}/deep`);
    assert.ok(read.text.includes(`"a":${'['.repeat(100)}${']'.repeat(100)}`), read.text.slice(0, 200));
    await assertStillServing();
  });

  test('duplicate keys collapse to the last one; numbers keep their spelling', async () => {
    const written = await send('PUT', `/${db}/dup`, '{"a":1,"b":2,"a":3,"f":1.0,"e":1E3}');
    assert.equal(written.status, 201, written.text);
    const read = await send('GET', `/${db}/dup`);
    assert.match(read.text, /^\{"_id":"dup","_rev":"1-[0-9a-f]{32}","b":2,"a":3,"f":1\.0,"e":1000\.0\}\n$/);
  });
});

describe('odd ids and paths', () => {
  test('encoded slash, plus, unicode ids round-trip', async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['a%2Fb', 'a/b'],
      ['plus+sign', 'plus sign'],
      ['real%2Bplus', 'real+plus'],
      ['%C3%A9t%C3%A9', '\u00e9t\u00e9'],
      ['%F0%9F%98%80', '\u{1f600}'],
    ];
    for (const [segment, id] of cases) {
      const written = await send('PUT', `/${db}/${segment}`, '{"v":1}');
      assert.equal(written.status, 201, `${segment}: ${written.text}`);
      assert.equal((written.json as { id: string }).id, id);
      const read = await send('GET', `/${db}/${segment}`);
      assert.equal(read.status, 200, read.text);
      assert.equal((read.json as { _id: string })._id, id);
    }
  });

  test('reserved and malformed ids', async () => {
    const illegal = { error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' };
    assertClientError(await send('PUT', `/${db}/_foo`, '{}'), 400, illegal);
    assertClientError(await send('PUT', `/${db}/_design`, '{}'), 400, illegal);
    assertClientError(await send('GET', `/${db}/_foo`), 404, { error: 'not_found', reason: 'missing' });
    assertClientError(await send('PUT', `/${db}/_local`, '{}'), 400, { error: 'bad_request', reason: 'Invalid _local document id.' });
    const redirect = await send('GET', `/${db}/_design%2Fx`);
    assert.equal(redirect.status, 301, redirect.text);
    assert.match(String(redirect.headers['location']), new RegExp(`/${db}/_design/x$`));
  });

  test('bad percent-encoding, dot segments, NUL and raw bytes are clean 4xx', async () => {
    // a raw non-ASCII byte in the request line is refused by Node's HTTP parser
    // itself: 400, `Connection: close`, no body (not a Settee error reply)
    const rawByte = await sendRaw(server.baseUrl, { method: 'GET', path: `/${db}/caf\u00e9`, headers: { Authorization: admin } }, 5_000);
    assert.ok(rawByte.kind === 'response' && rawByte.status === 400, JSON.stringify(rawByte));
    const segments = ['%zz', '%', '%C3%28', '%ED%A0%80', '..', '.', '%2E%2E', '%00', '%FF'];
    for (const segment of segments) {
      const answer = await send('GET', `/${db}/${segment}`);
      assert.ok(answer.status >= 400 && answer.status < 500, `GET ${segment} → ${answer.status} ${answer.text}`);
      assertClientError(answer, answer.status, undefined, `GET ${segment}`);
    }
    // writes: ".." is a legal id (no path normalisation), the others must fail cleanly
    for (const segment of segments) {
      const put = await send('PUT', `/${db}/${segment}`, '{}');
      assert.ok(put.status < 500, `PUT ${segment} → ${put.status} ${put.text}`);
      if (put.status >= 400) assertClientError(put, put.status, undefined, `PUT ${segment}`);
    }
    assertClientError(await send('PUT', '/Bad'), 400, { error: 'illegal_database_name' });
    assertClientError(await send('GET', '/_foo'), 404, { error: 'not_found', reason: 'Database does not exist.' });
    await assertStillServing();
  });

  test('a very long id works or is refused cleanly; an over-long URL is 431', async () => {
    const longId = 'i'.repeat(10_000);
    const written = await send('PUT', `/${db}/${longId}`, '{"v":1}');
    assert.ok(written.status < 500, `${written.status} ${written.text.slice(0, 200)}`);
    if (written.status === 201) {
      const read = await send('GET', `/${db}/${longId}`);
      assert.equal((read.json as { _id: string })._id, longId);
    }
    const tooLong = await sendRaw(server.baseUrl, { method: 'GET', path: `/${db}/${'u'.repeat(70 * 1024)}`, headers: { Authorization: admin } }, 5_000);
    assert.equal(tooLong.kind, 'response', JSON.stringify(tooLong));
    if (tooLong.kind === 'response') assert.equal(tooLong.status, 431);
    await assertStillServing();
  });

  test('bad Authorization headers and cookies', async () => {
    const anonymous = async (headers: Record<string, string>) =>
      sendRaw(server.baseUrl, { method: 'GET', path: `/${db}`, headers }, 5_000);
    const invalidBase64 = await anonymous({ Authorization: 'Basic !!!' });
    assert.ok(invalidBase64.kind === 'response' && invalidBase64.status === 400, JSON.stringify(invalidBase64));
    assert.deepEqual(JSON.parse(invalidBase64.text), { error: 'bad_request', reason: 'Authorization header has invalid base64 value' });
    const badCookie = await anonymous({ Cookie: 'AuthSession=garbage' });
    assert.ok(badCookie.kind === 'response' && badCookie.status === 400, JSON.stringify(badCookie));
    const wrongUser = await anonymous({ Authorization: basicAuth('nobody:wrong') });
    assert.ok(wrongUser.kind === 'response' && wrongUser.status === 401, JSON.stringify(wrongUser));
    const bearer = await anonymous({ Authorization: 'Bearer x' });
    assert.ok(bearer.kind === 'response' && bearer.status === 401, `anonymous on an admin-only db: ${JSON.stringify(bearer)}`);
    await assertStillServing();
  });
});
