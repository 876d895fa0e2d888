/** View queries over HTTP: framing, map and reduce answers, POST bodies, include_docs, errors, updates, _info. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import type { InjectOptions, InjectResponse, TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { defaultLimits } from '../../src/core/limits.js';

let server: TestServer;

before(async () => {
  // Small pages, so include_docs and updates cross page boundaries.
  server = await startTestServer({ config: { limits: { ...defaultLimits, scanBatchRowsMax: 2, viewFunctionTimeoutMs: 200 } } });
  await admin({ method: 'PUT', path: '/v' });
  const docs = [
    { _id: 'd1', type: 'fruit', name: 'apple', price: 3, tags: ['red', 'sweet'], date: [2024, 1, 15] },
    { _id: 'd2', type: 'fruit', name: 'banana', price: 1, tags: ['yellow'], date: [2024, 1, 20] },
    { _id: 'd3', type: 'veg', name: 'carrot', price: 2, tags: ['orange'], date: [2024, 2, 1] },
    { _id: 'd4', type: 'fruit', name: 'cherry', price: 5, tags: ['red'], date: [2024, 2, 14] },
    { _id: 'd5', type: 'veg', name: 'daikon', price: 2, tags: [], date: [2025, 1, 1] },
  ];
  const written = await admin({ method: 'POST', path: '/v/_bulk_docs', body: { docs } });
  assert.equal(written.status, 201, written.text);
  const design = await admin({
    method: 'PUT',
    path: '/v/_design/v',
    body: {
      views: {
        by_name: { map: 'function(doc){ if(doc.name) emit(doc.name, doc.price); }' },
        by_type: { map: 'function(doc){ if(doc.type) emit(doc.type, doc.price); }', reduce: '_sum' },
        by_date: { map: 'function(doc){ if(doc.date) emit(doc.date, doc.price); }', reduce: '_stats' },
        js: { map: 'function(doc){ if(doc.type) emit(doc.type, doc.price); }', reduce: 'function(k, v, re){ return sum(v); }' },
        linked: { map: "function(doc){ if(doc.type==='veg') emit(doc._id, {_id: 'd1'}); }" },
        floats: { map: 'function(doc){ if(doc.price) emit(doc._id, doc.price / 2); }', reduce: '_sum' },
      },
    },
  });
  assert.equal(design.status, 201, design.text);
});
after(async () => {
  await server.close();
});

function admin(options: InjectOptions): Promise<InjectResponse> {
  return server.request({ auth: 'admin', ...options });
}

interface Rows {
  total_rows?: number;
  offset?: number;
  update_seq?: unknown;
  rows: { id?: string; key: unknown; value: unknown; doc?: { _id: string } | null }[];
}

async function rows(path: string, options: Partial<InjectOptions> = {}): Promise<Rows> {
  const response = await admin({ path, ...options });
  assert.equal(response.status, 200, response.text);
  return response.json as Rows;
}

const keyValues = (answer: Rows): unknown[] => answer.rows.map((row) => [row.key, row.value]);

test('framing: chunked, one row per line, as CouchDB writes it', async () => {
  const response = await admin({ path: '/v/_design/v/_view/by_name?limit=2' });
  assert.equal(response.headers['transfer-encoding'], 'chunked');
  assert.equal(
    response.text,
    '{"total_rows":5,"offset":0,"rows":[\r\n{"id":"d1","key":"apple","value":3},\r\n{"id":"d2","key":"banana","value":1}\r\n]}\n',
  );
  const reduced = await admin({ path: '/v/_design/v/_view/by_type' });
  assert.equal(reduced.text, '{"rows":[\r\n{"key":null,"value":13}\r\n]}\n');
  const empty = await admin({ path: '/v/_design/v/_view/by_name?key="zzz"' });
  assert.equal(empty.text, '{"total_rows":5,"offset":5,"rows":[\r\n\r\n]}\n');
  const head = await admin({ method: 'HEAD', path: '/v/_design/v/_view/by_name' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
});

test('map queries: ranges, keys, skip, limit, descending, update_seq', async () => {
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/by_name?startkey="b"&endkey="cherry"&inclusive_end=false')), [
    ['banana', 1],
    ['carrot', 2],
  ]);
  const keys = await rows('/v/_design/v/_view/by_name?keys=["daikon","nope","apple"]');
  assert.deepEqual([keys.offset, keys.rows.map((row) => row.id)], [2, ['d5', 'd1']]);
  const posted = await rows('/v/_design/v/_view/by_name', { method: 'POST', body: { keys: ['apple', 'apple'], descending: true } });
  assert.deepEqual(posted.rows.map((row) => row.id), ['d1', 'd1']);
  const page = await rows('/v/_design/v/_view/by_name?descending=true&skip=1&limit=2');
  assert.deepEqual([page.offset, page.rows.map((row) => row.id)], [1, ['d4', 'd3']]);
  const withSeq = await rows('/v/_design/v/_view/by_name?update_seq=true&limit=0');
  assert.equal(typeof withSeq.update_seq, 'number');
  assert.deepEqual(withSeq.rows, []);
});

test('reduce queries: builtins, grouping, JavaScript reduce, float sums written as floats', async () => {
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/by_type?group=true')), [
    ['fruit', 9],
    ['veg', 4],
  ]);
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/by_type?keys=["veg","none","fruit"]&group=true')), [
    ['veg', 4],
    ['fruit', 9],
  ]);
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/by_date?group_level=1')), [
    [[2024], { sum: 11, count: 4, min: 1, max: 5, sumsqr: 39 }],
    [[2025], { sum: 2, count: 1, min: 2, max: 2, sumsqr: 4 }],
  ]);
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/js')), [[null, 13]]);
  assert.deepEqual(keyValues(await rows('/v/_design/v/_view/js?group=true&descending=true')), [
    ['veg', 4],
    ['fruit', 9],
  ]);
  const floats = await admin({ path: '/v/_design/v/_view/floats' });
  assert.equal(floats.text, '{"rows":[\r\n{"key":null,"value":6.5}\r\n]}\n');
  const grouped = await admin({ path: '/v/_design/v/_view/floats?group=true&limit=1' });
  assert.equal(grouped.text, '{"rows":[\r\n{"key":"d1","value":1.5}\r\n]}\n');
  const reduceFalse = await rows('/v/_design/v/_view/by_type?reduce=false&limit=1');
  assert.deepEqual([reduceFalse.total_rows, reduceFalse.rows[0]], [5, { id: 'd1', key: 'fruit', value: 3 }]);
});

test('include_docs: the emitting document, or the linked one', async () => {
  const answer = await rows('/v/_design/v/_view/by_name?include_docs=true&limit=3');
  assert.deepEqual(answer.rows.map((row) => row.doc?._id), ['d1', 'd2', 'd3']);
  const linked = await rows('/v/_design/v/_view/linked?include_docs=true');
  assert.deepEqual(answer.rows[0]?.doc, linked.rows[0]?.doc);
  assert.deepEqual(linked.rows.map((row) => [row.id, row.doc?._id]), [
    ['d3', 'd1'],
    ['d5', 'd1'],
  ]);
});

test('errors, as CouchDB answers them', async () => {
  const cases: [string, number, { error: string; reason: string }][] = [
    ['/v/_design/v/_view/nope', 404, { error: 'not_found', reason: 'missing_named_view' }],
    ['/v/_design/nope/_view/x', 404, { error: 'not_found', reason: 'missing' }],
    ['/v/_design/v/_view/by_name?reduce=true', 400, { error: 'query_parse_error', reason: 'Reduce is invalid for map-only views.' }],
    ['/v/_design/v/_view/by_name?group=true', 400, { error: 'query_parse_error', reason: 'Invalid use of grouping on a map view.' }],
    ['/v/_design/v/_view/by_type?include_docs=true', 400, { error: 'query_parse_error', reason: '`include_docs` is invalid for reduce' }],
    ['/v/_design/v/_view/by_name?key=nope', 400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }],
    ['/v/_design/v/_view/by_name?limit=-5', 400, { error: 'query_parse_error', reason: 'Invalid value for positive integer: "-5"' }],
  ];
  for (const [path, status, body] of cases) {
    const response = await admin({ path });
    assert.deepEqual([response.status, response.json], [status, body], path);
  }
  const reversed = await admin({ path: '/v/_design/v/_view/by_name?startkey="z"&endkey="a"' });
  assert.equal(reversed.status, 400);
  assert.equal(typeof (reversed.json as { ref?: unknown }).ref, 'number');
  const method = await admin({ method: 'PUT', path: '/v/_design/v/_view/by_name', body: {} });
  assert.deepEqual([method.status, method.json], [405, { error: 'method_not_allowed', reason: 'Only GET,POST,HEAD allowed' }]);
  const badKeys = await admin({ method: 'POST', path: '/v/_design/v/_view/by_name', body: { keys: 'x' } });
  assert.deepEqual([badKeys.status, badKeys.json], [400, { error: 'bad_request', reason: '`keys` member must be an array.' }]);
  const anonymous = await server.request({ path: '/v/_design/v/_view/by_name' });
  assert.equal(anonymous.status, 401);
});

test('design documents are compiled on save; a map that throws skips the document', async () => {
  const syntax = await admin({ method: 'PUT', path: '/v/_design/bad', body: { views: { syntax: { map: 'function(doc){ emit(doc._id }' } } } });
  assert.deepEqual([syntax.status, syntax.json], [
    400,
    {
      error: 'compilation_error',
      reason: "Compilation of the map function in the 'syntax' view failed: SyntaxError: expecting ',' (function(doc){ emit(doc._id })",
    },
  ]);
  const bulk = await admin({ method: 'POST', path: '/v/_bulk_docs', body: { docs: [{ _id: '_design/bulkbad', views: { v: { map: '42' } } }] } });
  assert.equal((bulk.json as { error?: string }[])[0]?.error, 'compilation_error');
  const throws = await admin({
    method: 'PUT',
    path: '/v/_design/throws',
    body: { views: { t: { map: "function(doc){ if (doc.name === 'banana') throw new Error('boom'); emit(doc._id, null); }" } } },
  });
  assert.equal(throws.status, 201);
  const answer = await rows('/v/_design/throws/_view/t');
  assert.deepEqual([answer.total_rows, answer.rows.map((row) => row.id)], [4, ['d1', 'd3', 'd4', 'd5']]);
  const cobol = await admin({ method: 'PUT', path: '/v/_design/cobol', body: { language: 'cobol', views: { v: { map: 'x' } } } });
  assert.equal(cobol.status, 201);
  const unknown = await admin({ path: '/v/_design/cobol/_view/v' });
  assert.deepEqual([unknown.status, unknown.json], [500, { error: 'unknown_query_language', reason: 'cobol' }]);
});

test('a map function that runs too long fails the query with os_process_error', async () => {
  await admin({ method: 'PUT', path: '/slow' });
  await admin({ method: 'PUT', path: '/slow/a', body: {} });
  const design = await admin({ method: 'PUT', path: '/slow/_design/s', body: { views: { v: { map: 'function(doc){ while (true) {} }' } } } });
  assert.equal(design.status, 201, design.text);
  const response = await admin({ path: '/slow/_design/s/_view/v' });
  assert.deepEqual([response.status, response.json], [500, { error: 'os_process_error', reason: 'OS process timed out.' }]);
});

test('views follow edits, deletes and design document changes; stale=ok answers from the index', async () => {
  await admin({ method: 'PUT', path: '/u' });
  const design = await admin({ method: 'PUT', path: '/u/_design/u', body: { views: { v: { map: 'function(doc){ if(doc.k) emit(doc.k, doc.v); }' } } } });
  const a1 = ((await admin({ method: 'PUT', path: '/u/a', body: { k: 'x', v: 1 } })).json as { rev: string }).rev;
  assert.deepEqual(keyValues(await rows('/u/_design/u/_view/v')), [['x', 1]]);
  const a2 = ((await admin({ method: 'PUT', path: '/u/a', body: { _rev: a1, k: 'y', v: 2 } })).json as { rev: string }).rev;
  assert.deepEqual(keyValues(await rows('/u/_design/u/_view/v?stale=ok')), [['x', 1]]);
  assert.deepEqual(keyValues(await rows('/u/_design/u/_view/v')), [['y', 2]]);
  await admin({ method: 'DELETE', path: `/u/a?rev=${a2}` });
  assert.deepEqual((await rows('/u/_design/u/_view/v')).total_rows, 0);
  await admin({ method: 'PUT', path: '/u/b', body: { k: 'z', v: 3 } });
  const designRev = (design.json as { rev: string }).rev;
  await admin({ method: 'PUT', path: '/u/_design/u', body: { _rev: designRev, views: { v: { map: 'function(doc){ if(doc.k) emit(doc.v, doc.k); }' } } } });
  assert.deepEqual(keyValues(await rows('/u/_design/u/_view/v')), [[3, 'z']]);
  const info = await admin({ path: '/u/_design/u/_info' });
  assert.equal(info.status, 200);
  const viewIndex = (info.json as { name: string; view_index: { language: string; signature: string; update_seq: number } }).view_index;
  assert.equal((info.json as { name: string }).name, 'u');
  assert.equal(viewIndex.language, 'javascript');
  assert.match(viewIndex.signature, /^[0-9a-f]{32}$/);
  assert.ok(viewIndex.update_seq > 0);
  const missing = await admin({ path: '/u/_design/nope/_info' });
  assert.deepEqual([missing.status, missing.json], [404, { error: 'not_found', reason: 'missing' }]);
});

test('the view limits are read from the ini file', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'settee-views-config-'));
  writeFileSync(join(cwd, 'views.ini'), '[couchdb]\nos_process_timeout = 1234\nview_indexes_max = 7\nview_index_rows_max = 99\n');
  const config = resolveConfig({ argv: ['--config', 'views.ini', '--data', cwd], env: {}, cwd });
  assert.deepEqual([config.limits.viewFunctionTimeoutMs, config.limits.viewIndexesMax, config.limits.viewIndexRowsMax], [1234, 7, 99]);
  const defaults = resolveConfig({ argv: ['--data', cwd], env: {}, cwd });
  assert.deepEqual([defaults.limits.viewFunctionTimeoutMs, defaults.limits.viewIndexesMax, defaults.limits.viewIndexRowsMax], [5000, 100, 5_000_000]);
});
