import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/database.js';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { putDoc } from './changes-helpers.js';

let server: TestServer;
let counter = 0;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** A fresh database with CouchDB's usual scenario: a, b, c; a updated; b deleted (seqs 3, 4, 5). */
async function scenarioDb(): Promise<{ name: string; db: Database; revs: Record<string, string> }> {
  const name = `changes_${++counter}`;
  const db = await server.services.couch.createDatabase(name);
  const a1 = await putDoc(db, 'a', '{"type":"x","n":1}');
  const b1 = await putDoc(db, 'b', '{"type":"y","n":2}');
  const c1 = await putDoc(db, 'c', '{"type":"x","n":3}');
  const a2 = await putDoc(db, 'a', `{"_rev":"${a1}","type":"x","n":4}`);
  const b2 = await putDoc(db, 'b', `{"_rev":"${b1}","_deleted":true}`);
  return { name, db, revs: { a1, b1, c1, a2, b2 } };
}

function get(path: string, extra: { method?: string; body?: object | string; headers?: Record<string, string> } = {}) {
  return server.request({ path, auth: 'admin', ...extra });
}

interface Feed {
  results: { seq: number | null; id: string; changes: { rev: string }[]; deleted?: boolean; doc?: Record<string, unknown> }[];
  last_seq: number;
  pending: number;
}

test('normal feed: CouchDB framing, integer seqs, deletions, ETag and 304', async () => {
  const { name, revs } = await scenarioDb();
  const response = await get(`/${name}/_changes`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(response.headers['transfer-encoding'], 'chunked');
  assert.equal(
    response.text,
    '{"results":[\n' +
      `{"seq":3,"id":"c","changes":[{"rev":"${revs.c1}"}]},\r\n` +
      `{"seq":4,"id":"a","changes":[{"rev":"${revs.a2}"}]},\r\n` +
      `{"seq":5,"id":"b","changes":[{"rev":"${revs.b2}"}],"deleted":true}\n` +
      '],\n"last_seq":5,"pending":0}\n\n',
  );
  const etag = String(response.headers['etag']);
  assert.match(etag, /^"[0-9A-Z]+"$/);
  const again = await get(`/${name}/_changes?limit=1`);
  assert.equal(again.headers['etag'], etag, 'the ETag depends on the database, not the query');
  const cached = await get(`/${name}/_changes`, { headers: { 'If-None-Match': etag } });
  assert.equal(cached.status, 304);
  assert.equal(cached.text, '');
  const empty = await get(`/${name}/_changes?since=now`);
  assert.equal(empty.text, '{"results":[\n\n],\n"last_seq":5,"pending":0}\n\n');
});

test('the ETag changes when the database does', async () => {
  const { name, db } = await scenarioDb();
  const before = (await get(`/${name}/_changes`)).headers['etag'];
  await putDoc(db, 'd', '{}');
  const after = (await get(`/${name}/_changes`)).headers['etag'];
  assert.notEqual(before, after);
});

test('since: integers, now, opaque CouchDB sequences by their leading integer; malformed ones are 400', async () => {
  const { name } = await scenarioDb();
  for (const since of ['3', '3-g1AAAABPeJzLYWBgYMxgTmEQ', '%223-g1AAAA%22', '[3,%22g1AAAA%22]']) {
    const feed = (await get(`/${name}/_changes?since=${since}`)).json as Feed;
    assert.deepEqual(feed.results.map((row) => row.seq), [4, 5], `since=${since}`);
  }
  assert.deepEqual(((await get(`/${name}/_changes?since=now`)).json as Feed).results, []);
  assert.equal(((await get(`/${name}/_changes?since=now`)).json as Feed).last_seq, 5);
  for (const since of ['garbage', '-1', '1.5', 'x-3']) {
    const response = await get(`/${name}/_changes?since=${since}`);
    assert.equal(response.status, 400, `since=${since}`);
    assert.deepEqual(response.json, { error: 'bad_request', reason: "Malformed sequence supplied in 'since' parameter." });
  }
});

test('limit: rows, last_seq and pending as CouchDB counts them', async () => {
  const { name } = await scenarioDb();
  const one = (await get(`/${name}/_changes?limit=1`)).json as Feed;
  assert.deepEqual([one.results.map((row) => row.id), one.last_seq, one.pending], [['c'], 3, 2]);
  const two = (await get(`/${name}/_changes?limit=2&since=2`)).json as Feed;
  assert.deepEqual([two.results.map((row) => row.id), two.last_seq, two.pending], [['c', 'a'], 4, 1]);
  const zero = (await get(`/${name}/_changes?limit=0`)).json as Feed;
  assert.deepEqual([zero.results, zero.last_seq, zero.pending], [[], 0, 3]);
  const negative = await get(`/${name}/_changes?limit=-1`);
  assert.equal(negative.status, 200);
  assert.deepEqual((negative.json as Feed).results, []);
  const bad = await get(`/${name}/_changes?limit=abc`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'query_parse_error', reason: 'Invalid value for integer: "abc"' });
});

test('descending, with and without limit; descending=maybe is false', async () => {
  const { name } = await scenarioDb();
  const all = (await get(`/${name}/_changes?descending=true`)).json as Feed;
  assert.deepEqual([all.results.map((row) => row.seq), all.last_seq, all.pending], [[5, 4, 3], 3, 0]);
  const one = (await get(`/${name}/_changes?descending=true&limit=1`)).json as Feed;
  assert.deepEqual([one.results.map((row) => row.seq), one.last_seq, one.pending], [[5], 5, 2]);
  const maybe = (await get(`/${name}/_changes?descending=maybe`)).json as Feed;
  assert.deepEqual(maybe.results.map((row) => row.seq), [3, 4, 5]);
});

test('include_docs: bodies, tombstones as {_id,_rev,_deleted}, conflicts=true', async () => {
  const { name, db, revs } = await scenarioDb();
  const feed = (await get(`/${name}/_changes?include_docs=true`)).json as Feed;
  assert.deepEqual(feed.results[0]?.doc, { _id: 'c', _rev: revs.c1, type: 'x', n: 3 });
  assert.deepEqual(feed.results[2]?.doc, { _id: 'b', _rev: revs.b2, _deleted: true });
  await putDoc(db, 'k', '{"_rev":"1-aaa","v":1}', false);
  await putDoc(db, 'k', '{"_rev":"1-bbb","v":2}', false);
  const withConflicts = (await get(`/${name}/_changes?include_docs=true&conflicts=true&since=5`)).json as Feed;
  assert.deepEqual(withConflicts.results[0]?.doc, { _id: 'k', _rev: '1-bbb', v: 2, _conflicts: ['1-aaa'] });
  const noDocs = (await get(`/${name}/_changes?conflicts=true&since=5`)).json as Feed;
  assert.equal(noDocs.results[0]?.doc, undefined, 'conflicts without include_docs adds nothing');
  const attachments = await get(`/${name}/_changes?include_docs=true&attachments=true&att_encoding_info=true&since=5`);
  assert.equal(attachments.status, 200);
});

test('style=all_docs lists every leaf, winner first; a bogus style is 400', async () => {
  const { name, db } = await scenarioDb();
  await putDoc(db, 'k', '{"_rev":"1-aaa","v":1}', false);
  await putDoc(db, 'k', '{"_rev":"1-bbb","v":2}', false);
  const main = (await get(`/${name}/_changes?since=5`)).json as Feed;
  assert.deepEqual(main.results[0]?.changes, [{ rev: '1-bbb' }]);
  const all = (await get(`/${name}/_changes?since=5&style=all_docs`)).json as Feed;
  assert.deepEqual(all.results[0]?.changes, [{ rev: '1-bbb' }, { rev: '1-aaa' }]);
  const bogus = await get(`/${name}/_changes?style=bogus`);
  assert.equal(bogus.status, 400);
  assert.equal((bogus.json as { error: string }).error, 'bad_request');
});

test('seq_interval: seq on every Nth row counted down from the limit, as CouchDB', async () => {
  const { name, db } = await scenarioDb();
  await putDoc(db, 'd', '{"n":5}');
  await putDoc(db, 'e', '{"n":6}');
  const two = (await get(`/${name}/_changes?seq_interval=2`)).json as Feed;
  assert.deepEqual(two.results.map((row) => row.seq), [3, null, 5, null, 7]);
  assert.equal(two.last_seq, 7);
  const three = (await get(`/${name}/_changes?seq_interval=3`)).json as Feed;
  assert.deepEqual(three.results.map((row) => row.seq), [null, 4, null, null, 7]);
  for (const bad of ['0', 'x', '-2']) {
    const response = await get(`/${name}/_changes?seq_interval=${bad}`);
    assert.deepEqual([response.status, response.json], [400, { error: 'bad_request', reason: 'invalid_seq_interval' }]);
  }
});

test('filter=_doc_ids by GET and POST; doc_ids ignored without the filter; errors', async () => {
  const { name } = await scenarioDb();
  const byGet = (await get(`/${name}/_changes?filter=_doc_ids&doc_ids=${encodeURIComponent('["c","b","nope"]')}`)).json as Feed;
  assert.deepEqual([byGet.results.map((row) => row.id), byGet.last_seq, byGet.pending], [['c', 'b'], 5, 1]);
  const byPost = (await get(`/${name}/_changes?filter=_doc_ids`, { method: 'POST', body: { doc_ids: ['a'] } })).json as Feed;
  assert.deepEqual([byPost.results.map((row) => row.id), byPost.last_seq, byPost.pending], [['a'], 5, 2]);
  const limited = (await get(`/${name}/_changes?filter=_doc_ids&limit=1`, { method: 'POST', body: { doc_ids: ['b', 'c'] } })).json as Feed;
  assert.deepEqual([limited.results.map((row) => row.id), limited.last_seq], [['c'], 3]);
  const ignored = (await get(`/${name}/_changes`, { method: 'POST', body: { doc_ids: ['a'] } })).json as Feed;
  assert.deepEqual(ignored.results.map((row) => row.id), ['c', 'a', 'b']);
  const error = { error: 'bad_request', reason: '`doc_ids` filter parameter is not a list of doc ids.' };
  for (const request of [
    { method: 'POST', body: {} },
    { method: 'POST', body: { doc_ids: 'a' } },
    { method: 'POST', body: { doc_ids: [1] } },
    { method: 'GET' },
  ]) {
    const response = await get(`/${name}/_changes?filter=_doc_ids`, request);
    assert.deepEqual([response.status, response.json], [400, error], JSON.stringify(request));
  }
  const badJson = await get(`/${name}/_changes?filter=_doc_ids&doc_ids=nope`);
  assert.deepEqual([badJson.status, badJson.json], [400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }]);
});

test('filter=_design keeps design documents only', async () => {
  const { name, db } = await scenarioDb();
  await putDoc(db, '_design/d', '{"language":"javascript"}');
  const feed = (await get(`/${name}/_changes?filter=_design`)).json as Feed;
  assert.deepEqual([feed.results.map((row) => row.id), feed.last_seq, feed.pending], [['_design/d'], 6, 0]);
});

test('filters that need the query engine: CouchDB request errors, then 501', async () => {
  const { name, db } = await scenarioDb();
  await putDoc(db, '_design/f', '{"filters":{"yes":"function(doc, req) { return true; }"},"views":{"v":{"map":"function(doc) {}"}}}');
  const cases: [string, { method?: string; body?: object }, number, object][] = [
    ['filter=_selector', {}, 400, { error: 'bad_request', reason: 'Selector must be specified in POST payload' }],
    ['filter=_selector', { method: 'POST', body: {} }, 400, { error: 'bad_request', reason: 'Selector error: expected a JSON object' }],
    ['filter=_selector', { method: 'POST', body: { selector: 'x' } }, 400, { error: 'bad_request', reason: 'Selector error: expected a JSON object' }],
    ['filter=bogus', {}, 400, { error: 'bad_request', reason: '`filter` must be of the form `designname/filtername`' }],
    ['filter=a/b/c', {}, 400, { error: 'bad_request', reason: '`filter` must be of the form `designname/filtername`' }],
    ['filter=_bogus', {}, 400, { error: 'bad_request', reason: 'unknown builtin filter name' }],
    ['filter=_view', {}, 400, { error: 'bad_request', reason: '`view` filter parameter is not provided.' }],
    ['filter=_view&view=v', {}, 400, { error: 'bad_request', reason: '`view` must be of the form `designname/viewname`' }],
    ['filter=_view&view=nope/v', {}, 404, { error: 'not_found', reason: 'missing' }],
    ['filter=_view&view=f/nope', {}, 404, { error: 'not_found', reason: 'missing json key: nope' }],
    ['filter=nope/x', {}, 404, { error: 'not_found', reason: 'missing' }],
    ['filter=f/nope', {}, 404, { error: 'not_found', reason: 'missing json key: nope' }],
  ];
  for (const [query, request, status, body] of cases) {
    const response = await get(`/${name}/_changes?${query}`, request);
    assert.deepEqual([response.status, response.json], [status, body], query);
  }
  for (const [query, request] of [
    ['filter=_view&view=f/v', {}],
    ['filter=f/yes', {}],
  ] as const) {
    const response = await get(`/${name}/_changes?${query}`, request);
    assert.equal(response.status, 501, query);
    assert.equal((response.json as { error: string }).error, 'not_implemented');
  }
});

test('parameter and request errors', async () => {
  const { name } = await scenarioDb();
  const cases: [string, number, object][] = [
    ['feed=bogus', 400, { error: 'bad_request', reason: 'Supported `feed` types: normal, continuous, live, longpoll, eventsource' }],
    ['heartbeat=abc&feed=longpoll', 400, { error: 'bad_request', reason: 'Invalid heartbeat value. Expecting a positive integer value (in milliseconds).' }],
    ['heartbeat=0&feed=longpoll', 400, { error: 'bad_request', reason: 'The heartbeat value should be a positive integer (in milliseconds).' }],
    ['timeout=abc&feed=longpoll', 400, { error: 'query_parse_error', reason: 'Invalid value for integer: "abc"' }],
  ];
  for (const [query, status, body] of cases) {
    const response = await get(`/${name}/_changes?${query}`);
    assert.deepEqual([response.status, response.json], [status, body], query);
  }
  const put = await get(`/${name}/_changes`, { method: 'PUT', body: {} });
  assert.deepEqual([put.status, put.json], [405, { error: 'method_not_allowed', reason: 'Only GET,POST,HEAD allowed' }]);
  assert.equal(put.headers['allow'], 'GET,POST,HEAD');
  const missing = await get('/no_such_db/_changes');
  assert.deepEqual([missing.status, missing.json], [404, { error: 'not_found', reason: 'Database does not exist.' }]);
  const anonymous = await server.request({ path: `/${name}/_changes` });
  assert.equal(anonymous.status, 401);
  const form = await get(`/${name}/_changes`, { method: 'POST', body: 'a=b', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 415);
  const array = await get(`/${name}/_changes`, { method: 'POST', body: '[1]', headers: { 'Content-Type': 'application/json' } });
  assert.deepEqual([array.status, array.json], [400, { error: 'bad_request', reason: 'Request body must be a JSON object' }]);
  const emptyPost = await get(`/${name}/_changes`, { method: 'POST', body: '', headers: { 'Content-Type': 'application/json' } });
  assert.equal(emptyPost.status, 200);
  assert.equal((emptyPost.json as Feed).results.length, 3);
});

test('HEAD answers the headers only; parameter names are case-insensitive', async () => {
  const { name } = await scenarioDb();
  const head = await get(`/${name}/_changes`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.ok(head.headers['etag']);
  const upper = (await get(`/${name}/_changes?LIMIT=1`)).json as Feed;
  assert.equal(upper.results.length, 1);
});

test('a feed larger than one storage batch streams every row once, in order', async () => {
  const name = `changes_big_${++counter}`;
  const db = await server.services.couch.createDatabase(name);
  const count = server.services.limits.scanBatchRowsMax * 2 + 7;
  const docs = Array.from({ length: count }, (_, index) => ({ id: `d${String(index).padStart(5, '0')}`, body: { n: index } }));
  await db.updateDocs(docs.map((doc) => ({ id: doc.id, history: null, deleted: false, body: doc.body, attachments: null })));
  const feed = (await get(`/${name}/_changes`)).json as Feed;
  assert.equal(feed.results.length, count);
  assert.deepEqual(feed.results.map((row) => row.seq), Array.from({ length: count }, (_, index) => index + 1));
  assert.equal(feed.last_seq, count);
  const limited = (await get(`/${name}/_changes?limit=${count - 1}&filter=_doc_ids&doc_ids=${encodeURIComponent(JSON.stringify(['d00005', 'd00001']))}`)).json as Feed;
  assert.deepEqual(limited.results.map((row) => row.id), ['d00001', 'd00005']);
});
