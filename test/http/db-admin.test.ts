import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, InjectResponse, TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await admin({ method: 'PUT', path: '/adm' });
});
after(async () => {
  await server.close();
});

function admin(options: InjectOptions): Promise<InjectResponse> {
  return server.request({ auth: 'admin', ...options });
}

test('_ensure_full_commit answers 201 and needs JSON', async () => {
  const ok = await admin({ method: 'POST', path: '/adm/_ensure_full_commit', body: {} });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.json, { ok: true, instance_start_time: '0' });
  const text = await admin({ method: 'POST', path: '/adm/_ensure_full_commit', body: '', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
});

test('_compact: 202, 415, POST only, design docs must exist, admins only', async () => {
  assert.deepEqual((await admin({ method: 'POST', path: '/adm/_compact', body: {} })).json, { ok: true });
  const text = await admin({ method: 'POST', path: '/adm/_compact', body: '', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  assert.deepEqual((await admin({ path: '/adm/_compact' })).json, { error: 'method_not_allowed', reason: 'Only POST allowed' });
  assert.deepEqual((await admin({ method: 'POST', path: '/adm/_compact/nope', body: {} })).json, { error: 'not_found', reason: 'missing' });
  await admin({ method: 'PUT', path: '/adm/_design/d', body: { views: { v: { map: 'function(doc){emit(1,1)}' } } } });
  assert.equal((await admin({ method: 'POST', path: '/adm/_compact/d', body: {} })).status, 202);
  assert.equal((await admin({ method: 'POST', path: '/adm/_view_cleanup', body: {} })).status, 202);
  const anonymous = await server.request({ method: 'POST', path: '/adm/_compact', body: {} });
  assert.deepEqual(anonymous.json, { error: 'unauthorized', reason: 'You are not a server or db admin.' });
  assert.equal((await admin({ method: 'POST', path: '/no_db/_compact', body: {} })).status, 404);
});

test('_revs_limit: bare number, positive integers only', async () => {
  const initial = await admin({ path: '/adm/_revs_limit' });
  assert.equal(initial.text, '1000\n');
  assert.deepEqual((await admin({ method: 'PUT', path: '/adm/_revs_limit', body: '3', headers: { 'Content-Type': 'application/json' } })).json, { ok: true });
  assert.equal((await admin({ path: '/adm/_revs_limit' })).text, '3\n');
  for (const bad of ['"5"', '0', '-1', '2.5', '{}']) {
    const refused = await admin({ method: 'PUT', path: '/adm/_revs_limit', body: bad, headers: { 'Content-Type': 'application/json' } });
    assert.equal(refused.status, 400, bad);
  }
  assert.deepEqual((await admin({ method: 'DELETE', path: '/adm/_revs_limit' })).json, {
    error: 'method_not_allowed',
    reason: 'Only PUT,GET allowed',
  });
});

test('_security: default admin-only, replace, extra members kept, invalid refused', async () => {
  await admin({ method: 'PUT', path: '/sec' });
  assert.deepEqual((await admin({ path: '/sec/_security' })).json, {
    members: { roles: ['_admin'] },
    admins: { roles: ['_admin'] },
  });
  const custom = { custom: { x: 1.0 }, members: { names: ['bob'], roles: [] } };
  assert.deepEqual((await admin({ method: 'PUT', path: '/sec/_security', body: custom })).json, { ok: true });
  assert.deepEqual((await admin({ path: '/sec/_security' })).json, custom);
  for (const bad of [{ members: { names: 'bob' } }, { members: { roles: [1] } }, { admins: [] }, []]) {
    const refused = await admin({ method: 'PUT', path: '/sec/_security', body: bad });
    assert.equal(refused.status, 400);
    assert.equal((refused.json as { error: string }).error, 'error');
  }
  await admin({ method: 'PUT', path: '/sec/_security', body: {} });
  assert.equal((await server.request({ method: 'PUT', path: '/sec/_security', body: {} })).status, 401);
  assert.equal((await server.request({ path: '/sec/_security' })).status, 200);
});

test('_purge removes leaves; _purged_infos and _purged_infos_limit', async () => {
  await admin({ method: 'PUT', path: '/pg' });
  const created = await admin({ method: 'PUT', path: '/pg/a', body: { v: 1 } });
  const rev = (created.json as { rev: string }).rev;
  const updateSeq = async (): Promise<number> => ((await admin({ path: '/pg' })).json as { update_seq: number }).update_seq;
  assert.equal(await updateSeq(), 1);
  const purged = await admin({ method: 'POST', path: '/pg/_purge', body: { a: [rev], nope: ['1-abc'] } });
  assert.equal(purged.status, 201);
  assert.deepEqual(purged.json, { purge_seq: null, purged: { a: [rev], nope: [] } });
  // As in CouchDB, a purge advances update_seq even when it only removed documents.
  assert.equal(await updateSeq(), 2);
  assert.deepEqual((await admin({ path: '/pg/a' })).json, { error: 'not_found', reason: 'missing' });
  assert.deepEqual((await admin({ path: '/pg/_purged_infos' })).json, { purged_infos: [{ id: 'a', revs: [rev] }] });
  assert.deepEqual((await admin({ method: 'POST', path: '/pg/_purge', body: { a: 'x' } })).json, {
    error: 'bad_request',
    reason: 'Invalid list of revisions',
  });
  assert.equal((await admin({ path: '/pg/_purged_infos_limit' })).text, '1000\n');
  assert.equal((await admin({ method: 'PUT', path: '/pg/_purged_infos_limit', body: '5', headers: { 'Content-Type': 'application/json' } })).status, 200);
  assert.equal((await admin({ path: '/pg/_purged_infos_limit' })).text, '5\n');
  assert.deepEqual((await admin({ method: 'PUT', path: '/pg/_purged_infos_limit', body: '-1', headers: { 'Content-Type': 'application/json' } })).json, {
    error: 'bad_request',
    reason: '`purged_infos_limit` must be positive integer',
  });
  await admin({ method: 'PUT', path: '/pg/_security', body: {} });
  assert.deepEqual((await server.request({ method: 'POST', path: '/pg/_purge', body: {} })).json, {
    error: 'unauthorized',
    reason: 'You are not a server admin.',
  });
});
