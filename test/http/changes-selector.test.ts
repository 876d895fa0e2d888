/**
 * `_changes?filter=_selector`: a Mango selector in the POST body, matched
 * against each change's winning revision (every leaf with `style=all_docs`),
 * and the same engine behind selector replication from a local database.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/database.js';
import { LocalEndpoint } from '../../src/replicator/local-endpoint.js';
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

interface Feed {
  results: { seq: number | null; id: string; changes: { rev: string }[]; deleted?: boolean; doc?: Record<string, unknown> }[];
  last_seq: number;
  pending: number;
}

/** The golden scenario: a, b, c; a updated; b deleted (seqs 3, 4, 5). */
async function scenarioDb(): Promise<{ name: string; db: Database; revs: Record<string, string> }> {
  const name = `changes_selector_${++counter}`;
  const db = await server.services.couch.createDatabase(name);
  const a1 = await putDoc(db, 'a', '{"type":"x","n":1}');
  const b1 = await putDoc(db, 'b', '{"type":"y","n":2}');
  const c1 = await putDoc(db, 'c', '{"type":"x","n":3}');
  const a2 = await putDoc(db, 'a', `{"_rev":"${a1}","type":"x","n":4}`);
  const b2 = await putDoc(db, 'b', `{"_rev":"${b1}","_deleted":true}`);
  return { name, db, revs: { a1, b1, c1, a2, b2 } };
}

function post(path: string, body: object | string) {
  return server.request({ path, method: 'POST', auth: 'admin', body, headers: { 'Content-Type': 'application/json' } });
}

test('rows whose winning revision matches, with CouchDB framing', async () => {
  const { name, revs } = await scenarioDb();
  const response = await post(`/${name}/_changes?filter=_selector`, { selector: { type: 'x' } });
  assert.equal(response.status, 200);
  assert.equal(
    response.text,
    '{"results":[\n' +
      `{"seq":3,"id":"c","changes":[{"rev":"${revs.c1}"}]},\r\n` +
      `{"seq":4,"id":"a","changes":[{"rev":"${revs.a2}"}]}\n` +
      '],\n"last_seq":5,"pending":0}\n\n',
  );
});

test('include_docs, ranges, and tombstones matching {"_deleted":true}', async () => {
  const { name, revs } = await scenarioDb();
  const ranged = (await post(`/${name}/_changes?filter=_selector&include_docs=true`, { selector: { n: { $gt: 2 } } })).json as Feed;
  assert.deepEqual(ranged.results.map((row) => row.id), ['c', 'a']);
  assert.deepEqual(ranged.results[1]?.doc, { _id: 'a', _rev: revs.a2, type: 'x', n: 4 });
  const deleted = (await post(`/${name}/_changes?filter=_selector`, { selector: { _deleted: true } })).json as Feed;
  assert.deepEqual(deleted.results, [{ seq: 5, id: 'b', changes: [{ rev: revs.b2 }], deleted: true }]);
  const byId = (await post(`/${name}/_changes?filter=_selector`, { selector: { _id: { $in: ['a', 'b'] } } })).json as Feed;
  assert.deepEqual(byId.results.map((row) => row.id), ['a', 'b']);
});

test('limit counts matching rows; the scan goes on past non-matching ones', async () => {
  const { name } = await scenarioDb();
  const feed = (await post(`/${name}/_changes?filter=_selector&limit=1`, { selector: { type: 'x' } })).json as Feed;
  assert.deepEqual(feed.results.map((row) => row.id), ['c']);
  const after = (await post(`/${name}/_changes?filter=_selector&since=3`, { selector: { type: 'x' } })).json as Feed;
  assert.deepEqual(after.results.map((row) => row.id), ['a']);
  const descending = (await post(`/${name}/_changes?filter=_selector&descending=true`, { selector: { type: 'x' } })).json as Feed;
  assert.deepEqual(descending.results.map((row) => row.id), ['a', 'c']);
});

test('style=all_docs lists only the leaves that match', async () => {
  const name = `changes_selector_${++counter}`;
  const db = await server.services.couch.createDatabase(name);
  await putDoc(db, 'd', '{"_rev":"1-aaaa","color":"red"}', false);
  await putDoc(db, 'd', '{"_rev":"1-bbbb","color":"blue"}', false);
  const red = (await post(`/${name}/_changes?filter=_selector&style=all_docs`, { selector: { color: 'red' } })).json as Feed;
  assert.deepEqual(red.results.map((row) => row.changes), [[{ rev: '1-aaaa' }]]);
  const winnerOnly = (await post(`/${name}/_changes?filter=_selector`, { selector: { color: 'red' } })).json as Feed;
  assert.deepEqual(winnerOnly.results, [], 'the winner (1-bbbb) is blue');
});

test('request errors: GET, a missing or non-object selector, Mango errors as bad_request', async () => {
  const { name } = await scenarioDb();
  const get = await server.request({ path: `/${name}/_changes?filter=_selector`, auth: 'admin' });
  assert.equal(get.status, 400);
  assert.deepEqual(get.json, { error: 'bad_request', reason: 'Selector must be specified in POST payload' });
  for (const body of [{}, { selector: 'x' }, { selector: [1] }]) {
    const response = await post(`/${name}/_changes?filter=_selector`, body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.deepEqual(response.json, { error: 'bad_request', reason: 'Selector error: expected a JSON object' });
  }
  const badArg = await post(`/${name}/_changes?filter=_selector`, { selector: { a: { $in: 'no' } } });
  assert.equal(badArg.status, 400);
  assert.deepEqual(badArg.json, { error: 'bad_request', reason: 'Bad argument for operator $in: <<110,111>>' });
  const badOperator = await post(`/${name}/_changes?filter=_selector`, { selector: { a: { $bogus: 1 } } });
  assert.deepEqual(badOperator.json, { error: 'bad_request', reason: 'Invalid operator: $bogus' });
});

test('live feeds apply the selector too (longpoll)', async () => {
  const { name, db } = await scenarioDb();
  const pending = post(`/${name}/_changes?filter=_selector&feed=longpoll&since=now`, { selector: { type: 'z' } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await putDoc(db, 'skip', '{"type":"y"}');
  await putDoc(db, 'keep', '{"type":"z"}');
  const feed = (await pending).json as Feed;
  assert.deepEqual(feed.results.map((row) => row.id), ['keep']);
});

test('a local replication source applies a selector to its changes', async () => {
  const { name, revs } = await scenarioDb();
  const endpoint = new LocalEndpoint({ couch: server.services.couch, dbName: name });
  const batch = await endpoint.changes({ since: 0, limit: 100, selector: { type: 'x' } });
  assert.deepEqual(
    batch.rows.map((row) => ({ id: row.id, changes: row.changes })),
    [
      { id: 'c', changes: [{ rev: revs.c1 }] },
      { id: 'a', changes: [{ rev: revs.a2 }] },
    ],
  );
  assert.equal(batch.lastSeq, 5, 'every examined change counts for the checkpoint');
  await assert.rejects(endpoint.changes({ since: 0, limit: 100, selector: { a: { $size: -1 } } }), /Bad argument for operator \$size: -1/);
});
