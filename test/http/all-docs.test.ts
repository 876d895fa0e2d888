import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, InjectResponse, TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { defaultLimits } from '../../src/core/limits.js';

let server: TestServer;
const revs: Record<string, string> = {};

before(async () => {
  // A tiny scan batch so every listing below crosses several pages.
  server = await startTestServer({ config: { limits: { ...defaultLimits, scanBatchRowsMax: 2 } } });
  await admin({ method: 'PUT', path: '/ad' });
  const docs = ['a', 'b', 'c', 'd', 'e'].map((id, n) => ({ _id: id, n }));
  const written = await admin({ method: 'POST', path: '/ad/_bulk_docs', body: { docs } });
  for (const row of written.json as { id: string; rev: string }[]) revs[row.id] = row.rev;
});
after(async () => {
  await server.close();
});

function admin(options: InjectOptions): Promise<InjectResponse> {
  return server.request({ auth: 'admin', ...options });
}

interface Listing {
  total_rows: number | null;
  offset: number | null;
  rows: { id?: string; key: unknown; value?: { rev: string; deleted?: boolean }; doc?: unknown; error?: string }[];
}

async function list(path: string, options: Partial<InjectOptions> = {}): Promise<Listing> {
  const response = await admin({ path, ...options });
  assert.equal(response.status, 200, response.text);
  return response.json as Listing;
}

const ids = (listing: Listing): unknown[] => listing.rows.map((row) => row.id ?? row.key);

test('framing: chunked rows on their own lines, empty database', async () => {
  await admin({ method: 'PUT', path: '/empty' });
  const empty = await admin({ path: '/empty/_all_docs' });
  assert.equal(empty.text, '{"total_rows":0,"offset":0,"rows":[\r\n\r\n]}\n');
  assert.equal(empty.headers['transfer-encoding'], 'chunked');
  const full = await admin({ path: '/ad/_all_docs?limit=2' });
  assert.equal(
    full.text,
    `{"total_rows":5,"offset":0,"rows":[\r\n{"id":"a","key":"a","value":{"rev":"${revs['a']}"}},\r\n{"id":"b","key":"b","value":{"rev":"${revs['b']}"}}\r\n]}\n`,
  );
  const head = await admin({ method: 'HEAD', path: '/ad/_all_docs' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
});

test('ranges, limit, skip, descending, offsets', async () => {
  assert.deepEqual(ids(await list('/ad/_all_docs')), ['a', 'b', 'c', 'd', 'e']);
  const range = await list('/ad/_all_docs?startkey="b"&endkey="d"');
  assert.deepEqual([ids(range), range.offset], [['b', 'c', 'd'], 1]);
  assert.deepEqual(ids(await list('/ad/_all_docs?start_key="b"&end_key="d"&inclusive_end=false')), ['b', 'c']);
  assert.deepEqual(ids(await list('/ad/_all_docs?descending=true&startkey="d"&endkey="b"')), ['d', 'c', 'b']);
  const reversed = await list('/ad/_all_docs?startkey="d"&endkey="b"');
  assert.deepEqual([ids(reversed), reversed.offset], [[], 3]);
  const key = await list('/ad/_all_docs?key="c"');
  assert.deepEqual([ids(key), key.offset], [['c'], 2]);
  assert.equal((await list('/ad/_all_docs?key="zz"')).offset, 5);
  const paged = await list('/ad/_all_docs?limit=2&skip=2');
  assert.deepEqual([ids(paged), paged.offset], [['c', 'd'], 2]);
  assert.equal((await list('/ad/_all_docs?skip=10')).offset, 5);
  assert.deepEqual(ids(await list('/ad/_all_docs?limit=0')), []);
  const descending = await list('/ad/_all_docs?descending=true&limit=2&skip=1');
  assert.deepEqual([ids(descending), descending.offset], [['d', 'c'], 1]);
  assert.deepEqual(ids(await list('/ad/_all_docs?startkey="b"&startkey_docid="x"&limit=2')), ['b', 'c']);
  assert.deepEqual(ids(await list('/ad/_all_docs?startkey=1&startkey_docid="d"')), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(ids(await list('/ad/_all_docs?startkey=1&startkey_docid=d')), ['d', 'e']);
});

test('include_docs, conflicts and update_seq', async () => {
  const withDocs = await list('/ad/_all_docs?include_docs=true&limit=1');
  assert.deepEqual(withDocs.rows[0]?.doc, { _id: 'a', _rev: revs['a'], n: 0 });
  const seq = (await list('/ad/_all_docs?update_seq=true&limit=0')) as Listing & { update_seq?: number };
  assert.equal(typeof seq.update_seq, 'number');
});

test('keys: request order, duplicates, missing, deleted, skip/limit/descending, offset null', async () => {
  await admin({ method: 'PUT', path: '/keys' });
  const created = await admin({ method: 'POST', path: '/keys/_bulk_docs', body: { docs: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] } });
  const crev = (created.json as { rev: string }[])[2]?.rev ?? '';
  const deleted = await admin({ method: 'DELETE', path: `/keys/c?rev=${crev}` });
  const deletedRev = (deleted.json as { rev: string }).rev;
  const byGet = await list('/keys/_all_docs?keys=["b","a","zz","c","a"]');
  assert.equal(byGet.offset, null);
  assert.equal(byGet.total_rows, 2);
  assert.deepEqual(ids(byGet), ['b', 'a', 'zz', 'c', 'a']);
  assert.deepEqual(byGet.rows[2], { key: 'zz', error: 'not_found' });
  assert.deepEqual(byGet.rows[3]?.value, { rev: deletedRev, deleted: true });
  const byPost = await list('/keys/_all_docs?include_docs=true', { method: 'POST', body: { keys: ['c', 1, null] } });
  assert.equal(byPost.rows[0]?.doc, null);
  assert.deepEqual(byPost.rows.slice(1), [{ key: 1, error: 'not_found' }, { key: null, error: 'not_found' }]);
  assert.deepEqual(ids(await list('/keys/_all_docs?limit=1&skip=1', { method: 'POST', body: { keys: ['a', 'b', 'c'] } })), ['b']);
  assert.deepEqual(ids(await list('/keys/_all_docs?descending=true', { method: 'POST', body: { keys: ['a', 'b'] } })), ['b', 'a']);
  assert.deepEqual(ids(await list('/keys/_all_docs?key="a"&keys=["b"]')), ['b']);
  const empty = await admin({ method: 'POST', path: '/keys/_all_docs', body: { keys: [] } });
  assert.equal(empty.text, '{"total_rows":2,"offset":null,"rows":[\r\n\r\n]}\n');
});

test('parameter errors', async () => {
  const cases: [string, InjectOptions['method'], object | undefined, unknown][] = [
    ['/ad/_all_docs?startkey=b', 'GET', undefined, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }],
    ['/ad/_all_docs?keys=a', 'GET', undefined, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }],
    ['/ad/_all_docs?key="a"', 'POST', { keys: ['b'] }, { error: 'query_parse_error', reason: '`keys` is incompatible with `key`, `start_key` and `end_key`' }],
    ['/ad/_all_docs?descending=maybe', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid boolean parameter: "maybe"' }],
    ['/ad/_all_docs?include_docs=1', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid boolean parameter: "1"' }],
    ['/ad/_all_docs?group=true', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid use of grouping on a map view.' }],
    ['/ad/_all_docs?reduce=true', 'GET', undefined, { error: 'query_parse_error', reason: 'Reduce is invalid for map-only views.' }],
    ['/ad/_all_docs?limit=-1', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid value for positive integer: "-1"' }],
    ['/ad/_all_docs?limit=abc', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid value for integer: "abc"' }],
    ['/ad/_all_docs?skip=-1', 'GET', undefined, { error: 'query_parse_error', reason: 'Invalid value for positive integer: "-1"' }],
    ['/ad/_all_docs', 'POST', { keys: 'a' }, { error: 'bad_request', reason: '`keys` body member must be an array.' }],
    ['/ad/_all_docs', 'PUT', {}, { error: 'method_not_allowed', reason: 'Only GET,HEAD,POST allowed' }],
    ['/nodb/_all_docs', 'GET', undefined, { error: 'not_found', reason: 'Database does not exist.' }],
  ];
  for (const [path, method, body, expected] of cases) {
    const response = await admin({ path, ...(method ? { method } : {}), ...(body ? { body } : {}) });
    assert.deepEqual(response.json, expected, path);
  }
  assert.equal((await list('/ad/_all_docs?bogus=1')).rows.length, 5);
});

test('_design_docs and _local_docs; raw code point order; locals not in _all_docs', async () => {
  await admin({ method: 'PUT', path: '/special' });
  const docs = ['b', 'B', 'a', 'A', '_design/z', 'é', '1', '~', 'aa', 'Z'].map((id) => ({ _id: id }));
  await admin({ method: 'POST', path: '/special/_bulk_docs', body: { docs } });
  await admin({ method: 'PUT', path: '/special/_local/l1', body: { v: 1 } });
  await admin({ method: 'PUT', path: '/special/_local/l2', body: { v: 2 } });
  const all = await list('/special/_all_docs');
  assert.deepEqual(ids(all), ['1', 'A', 'B', 'Z', '_design/z', 'a', 'aa', 'b', '~', 'é']);
  const design = await list('/special/_design_docs');
  assert.deepEqual([ids(design), design.total_rows, design.offset], [['_design/z'], 1, 1]);
  const local = await list('/special/_local_docs');
  assert.deepEqual([ids(local), local.total_rows, local.offset], [['_local/l1', '_local/l2'], null, null]);
  assert.deepEqual(local.rows[0]?.value, { rev: '0-1' });
  const localDocs = await list('/special/_local_docs?include_docs=true&descending=true&limit=1');
  assert.deepEqual(localDocs.rows[0]?.doc, { _id: '_local/l2', _rev: '0-1', v: 2 });
  const localKeys = await list('/special/_local_docs', { method: 'POST', body: { keys: ['_local/l2', '_local/zz'] } });
  assert.deepEqual(localKeys.rows[1], { key: '_local/zz', error: 'not_found' });
  const ranged = await list('/special/_all_docs?startkey="_design/"&endkey="_design0"');
  assert.deepEqual([ids(ranged), ranged.offset], [['_design/z'], 4]);
});

test('anonymous requests on an admin-only database are refused', async () => {
  const anonymous = await server.request({ path: '/ad/_all_docs' });
  assert.equal(anonymous.status, 401);
  assert.equal((await server.request({ path: '/_users/_all_docs' })).status, 401);
});
