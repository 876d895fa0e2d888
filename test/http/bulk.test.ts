import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, InjectResponse, TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

function admin(options: InjectOptions): Promise<InjectResponse> {
  return server.request({ auth: 'admin', ...options });
}

const v1 = '1-7a7e4b29f3af401e69b6f86e4c26b727';
const v2 = '2-d0df861eb528e79690cd2ff3c4d394f3';

test('_bulk_docs: creates, updates, conflicts, deletes, generated ids, locals', async () => {
  await admin({ method: 'PUT', path: '/bd' });
  await admin({ method: 'PUT', path: '/bd/u', body: { v: 1 } });
  await admin({ method: 'PUT', path: '/bd/del', body: { v: 1 } });
  const response = await admin({
    method: 'POST',
    path: '/bd/_bulk_docs',
    body: {
      docs: [
        { _id: 'new1', v: 1 },
        { _id: 'u', _rev: v1, v: 2 },
        { _id: 'u', _rev: v1, v: 3 },
        { _id: 'del', _rev: v1, _deleted: true },
        { v: 'no id' },
        { _id: 'new1', v: 'dup' },
        { _id: 'stale', _rev: '1-00000000000000000000000000000000', v: 1 },
        { _id: '_local/l', v: 1 },
      ],
    },
  });
  assert.equal(response.status, 201);
  const conflict = { error: 'conflict', reason: 'Document update conflict.' };
  const results = response.json as Record<string, unknown>[];
  assert.deepEqual(results[0], { ok: true, id: 'new1', rev: v1 });
  assert.deepEqual(results[1], { ok: true, id: 'u', rev: v2 });
  assert.deepEqual(results[2], { id: 'u', ...conflict });
  assert.deepEqual(results[3], { ok: true, id: 'del', rev: '2-d9b15b235a7d0afdfe6058d5fb8afbd1' });
  assert.match(String(results[4]?.['id']), /^[0-9a-f]{32}$/);
  assert.deepEqual(results[5], { id: 'new1', ...conflict });
  assert.deepEqual(results[6], { id: 'stale', ...conflict });
  assert.deepEqual(results[7], { ok: true, id: '_local/l', rev: '0-1' });
  assert.equal(response.headers['location'], undefined);
});

test('_bulk_docs: request errors, new_edits=false, all_or_nothing', async () => {
  await admin({ method: 'PUT', path: '/be' });
  const expectations: [unknown, number, unknown][] = [
    [{}, 400, { error: 'bad_request', reason: 'POST body must include `docs` parameter.' }],
    [{ docs: {} }, 400, { error: 'bad_request', reason: '`docs` parameter must be an array.' }],
    [[{ _id: 'a' }], 400, { error: 'bad_request', reason: 'Request body must be a JSON object' }],
    [{ docs: [] }, 201, []],
    [{ docs: [{ _id: 'a', _rev: 'bogus' }] }, 400, { error: 'bad_request', reason: 'Invalid rev format' }],
    [{ docs: [{ _id: 'ok' }, { _id: '_bad' }] }, 400, { error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' }],
    [{ docs: [1] }, 400, { error: 'bad_request', reason: 'Document must be a JSON object' }],
  ];
  for (const [body, status, expected] of expectations) {
    const response = await admin({ method: 'POST', path: '/be/_bulk_docs', body: body as object });
    assert.equal(response.status, status, JSON.stringify(body));
    assert.deepEqual(response.json, expected);
  }
  assert.equal((await admin({ path: '/be/ok' })).status, 404);
  const text = await admin({ method: 'POST', path: '/be/_bulk_docs', body: '{"docs":[]}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  assert.deepEqual((await admin({ path: '/be/_bulk_docs' })).json, { error: 'method_not_allowed', reason: 'Only POST allowed' });
  assert.equal((await admin({ method: 'POST', path: '/be/_bulk_docs', body: { docs: [], new_edits: 'false' } })).status, 400);
  const replicated = await admin({
    method: 'POST',
    path: '/be/_bulk_docs',
    body: { new_edits: false, docs: [{ _id: 'c', _rev: '1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', v: 'a' }] },
  });
  assert.deepEqual([replicated.status, replicated.json], [201, []]);
  const refused = await admin({ method: 'POST', path: '/be/_bulk_docs', body: { all_or_nothing: true, docs: [{ _id: 'y' }] } });
  assert.equal(refused.status, 417);
  assert.deepEqual(refused.json, [{ id: 'y', rev: '0-', error: 'not_implemented', reason: 'all_or_nothing is not supported' }]);
  assert.equal((await admin({ path: '/be/y' })).status, 404);
});

test('_bulk_get: by id, by rev, missing, deleted, conflicts, revs, latest, item errors', async () => {
  await admin({ method: 'PUT', path: '/bg' });
  await admin({ method: 'PUT', path: '/bg/a', body: { v: 1 } });
  await admin({ method: 'PUT', path: '/bg/a', body: { _rev: v1, v: 2 } });
  await admin({
    method: 'POST',
    path: '/bg/_bulk_docs',
    body: {
      new_edits: false,
      docs: [
        { _id: 'c', _rev: '1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', v: 'a' },
        { _id: 'c', _rev: '1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', v: 'b' },
      ],
    },
  });
  const response = await admin({
    method: 'POST',
    path: '/bg/_bulk_get',
    body: { docs: [{ id: 'a' }, { id: 'a', rev: v1 }, { id: 'missing' }, { id: 'a', rev: '9-00000000000000000000000000000000' }, { id: 'c' }] },
  });
  assert.equal(response.status, 200);
  const results = (response.json as { results: { id: string; docs: unknown[] }[] }).results;
  assert.deepEqual(results[0], { id: 'a', docs: [{ ok: { _id: 'a', _rev: v2, v: 2 } }] });
  assert.deepEqual(results[1], { id: 'a', docs: [{ ok: { _id: 'a', _rev: v1, v: 1 } }] });
  assert.deepEqual(results[2], { id: 'missing', docs: [{ error: { id: 'missing', rev: 'undefined', error: 'not_found', reason: 'missing' } }] });
  assert.deepEqual(results[3]?.docs, [{ error: { id: 'a', rev: '9-00000000000000000000000000000000', error: 'not_found', reason: 'missing' } }]);
  assert.deepEqual(
    results[4]?.docs.map((doc) => (doc as { ok: { _rev: string } }).ok._rev),
    ['1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  );
  const withRevs = await admin({ method: 'POST', path: '/bg/_bulk_get?revs=true', body: { docs: [{ id: 'a' }] } });
  const doc = (withRevs.json as { results: { docs: { ok: { _revisions: unknown } }[] }[] }).results[0]?.docs[0]?.ok;
  assert.deepEqual(doc?._revisions, { start: 2, ids: [v2.slice(2), v1.slice(2)] });
  const latest = await admin({ method: 'POST', path: '/bg/_bulk_get?latest=true', body: { docs: [{ id: 'a', rev: v1 }] } });
  assert.deepEqual((latest.json as { results: unknown[] }).results[0], { id: 'a', docs: [{ ok: { _id: 'a', _rev: v2, v: 2 } }] });
  const errors = await admin({
    method: 'POST',
    path: '/bg/_bulk_get',
    body: { docs: [{ rev: '1-abc' }, { id: 'a', rev: 'bogus' }, { id: '_bad' }] },
  });
  assert.deepEqual((errors.json as { results: unknown[] }).results, [
    { id: null, docs: [{ error: { id: null, rev: null, error: 'bad_request', reason: 'document id missed' } }] },
    { id: 'a', docs: [{ error: { id: 'a', rev: 'bogus', error: 'bad_request', reason: 'Invalid rev format' } }] },
    { id: '_bad', docs: [{ error: { id: '_bad', rev: null, error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' } }] },
  ]);
  assert.deepEqual((await admin({ method: 'POST', path: '/bg/_bulk_get', body: {} })).json, {
    error: 'bad_request',
    reason: "Missing JSON list of 'docs'.",
  });
  assert.equal((await admin({ method: 'POST', path: '/bg/_bulk_get', body: { docs: 'x' } })).status, 400);
  assert.deepEqual((await admin({ method: 'POST', path: '/bg/_bulk_get', body: { docs: [] } })).json, { results: [] });
  assert.equal((await admin({ path: '/bg/_bulk_get' })).status, 405);
});

test('_revs_diff and _missing_revs', async () => {
  await admin({ method: 'PUT', path: '/rd' });
  await admin({ method: 'PUT', path: '/rd/a', body: { v: 1 } });
  await admin({ method: 'PUT', path: '/rd/a', body: { _rev: v1, v: 2 } });
  const three = '3-00000000000000000000000000000000';
  const other = '1-ffffffffffffffffffffffffffffffff';
  const diff = await admin({ method: 'POST', path: '/rd/_revs_diff', body: { a: [v1, v2, three, other], nope: ['1-abc', '2-def'] } });
  assert.deepEqual(diff.json, {
    nope: { missing: ['1-abc', '2-def'] },
    a: { missing: [other, three], possible_ancestors: [v2] },
  });
  assert.deepEqual((await admin({ method: 'POST', path: '/rd/_revs_diff', body: { a: [v2] } })).json, {});
  assert.deepEqual((await admin({ method: 'POST', path: '/rd/_revs_diff', body: {} })).json, {});
  assert.equal((await admin({ method: 'POST', path: '/rd/_revs_diff', body: { a: 'x' } })).status, 400);
  assert.deepEqual((await admin({ method: 'POST', path: '/rd/_revs_diff', body: { a: ['bogus'] } })).json, {
    error: 'bad_request',
    reason: 'Invalid rev format',
  });
  assert.deepEqual((await admin({ method: 'POST', path: '/rd/_revs_diff', body: [1] })).json, {
    error: 'bad_request',
    reason: 'Request body must be a JSON object',
  });
  const missing = await admin({ method: 'POST', path: '/rd/_missing_revs', body: { a: [v2, three, 'bogus'], b: [v1] } });
  assert.deepEqual(missing.json, { missing_revs: { a: [three, 'bogus'], b: [v1] } });
});
