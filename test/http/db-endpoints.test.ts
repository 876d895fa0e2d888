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

const illegal = (name: string): unknown => ({
  error: 'illegal_database_name',
  reason: `Name: '${name}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.`,
});

test('PUT /db creates (201, Location), 412 when it exists, GET gives CouchDB info, DELETE removes', async () => {
  const created = await admin({ method: 'PUT', path: '/life' });
  assert.equal(created.status, 201);
  assert.deepEqual(created.json, { ok: true });
  assert.equal(created.headers['location'], `${server.baseUrl}/life`);
  const again = await admin({ method: 'PUT', path: '/life' });
  assert.equal(again.status, 412);
  assert.deepEqual(again.json, { error: 'file_exists', reason: 'The database could not be created, the file already exists.' });
  const info = await admin({ path: '/life' });
  assert.equal(info.status, 200);
  const body = info.json as Record<string, unknown>;
  assert.equal(body['db_name'], 'life');
  assert.equal(body['instance_start_time'], '0');
  for (const field of ['purge_seq', 'update_seq', 'sizes', 'props', 'doc_del_count', 'doc_count', 'disk_format_version', 'compact_running', 'cluster']) {
    assert.ok(field in body, field);
  }
  const head = await admin({ method: 'HEAD', path: '/life' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers['content-type'], 'application/json');
  const withRev = await admin({ method: 'DELETE', path: '/life?rev=1-abc' });
  assert.equal(withRev.status, 400);
  assert.match((withRev.json as { reason: string }).reason, /^You tried to DELETE a database with a \?=rev parameter/);
  assert.deepEqual((await admin({ method: 'DELETE', path: '/life' })).json, { ok: true });
  const gone = await admin({ path: '/life' });
  assert.equal(gone.status, 404);
  assert.deepEqual(gone.json, { error: 'not_found', reason: 'Database does not exist.' });
  assert.equal((await admin({ method: 'HEAD', path: '/life' })).status, 404);
  assert.equal((await admin({ method: 'DELETE', path: '/life' })).status, 404);
});

test('database names: illegal ones echo the decoded name, %2F and %2B are legal', async () => {
  assert.deepEqual((await admin({ method: 'PUT', path: '/Upper' })).json, illegal('Upper'));
  assert.deepEqual((await admin({ method: 'PUT', path: '/cx_kit%C3%A9' })).json, illegal('cx_kité'));
  assert.deepEqual((await admin({ method: 'PUT', path: '/a+b' })).json, illegal('a b'));
  const slash = await admin({ method: 'PUT', path: '/outer%2Fsub' });
  assert.equal(slash.status, 201);
  assert.equal(slash.headers['location'], `${server.baseUrl}/outer%2Fsub`);
  assert.equal((await admin({ path: '/outer%2Fsub' })).status, 200);
  const plus = await admin({ method: 'PUT', path: '/p%2B$()-x' });
  assert.equal(plus.headers['location'], `${server.baseUrl}/p%2B%24%28%29-x`);
});

test('q and n must be positive integers', async () => {
  const reason = 'The `q` value should be a positive integer.';
  assert.deepEqual((await admin({ method: 'PUT', path: '/qq?q=0' })).json, { error: 'bad_request', reason });
  assert.deepEqual((await admin({ method: 'PUT', path: '/qq?q=abc' })).json, { error: 'bad_request', reason });
  assert.equal((await admin({ method: 'PUT', path: '/qq?q=1&n=1' })).status, 201);
  assert.equal((await admin({ method: 'PUT', path: '/qp?partitioned=true' })).status, 201);
});

test('system databases exist from the start and are admin-only', async () => {
  assert.equal((await admin({ method: 'PUT', path: '/_users' })).status, 412);
  assert.equal((await admin({ method: 'PUT', path: '/_replicator' })).status, 412);
  const anonymous = await server.request({ path: '/_users' });
  assert.equal(anonymous.status, 401);
});

test('new databases are admin-only; {} security makes them public', async () => {
  await admin({ method: 'PUT', path: '/private' });
  const anonymous = await server.request({ path: '/private' });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.json, { error: 'unauthorized', reason: 'You are not authorized to access this db.' });
  assert.equal((await server.request({ method: 'PUT', path: '/anon' })).status, 401);
  assert.equal((await server.request({ method: 'DELETE', path: '/private' })).status, 401);
  await admin({ method: 'PUT', path: '/private/_security', body: {} });
  assert.equal((await server.request({ path: '/private' })).status, 200);
  const posted = await server.request({ method: 'POST', path: '/private', body: { a: 1 } });
  assert.equal(posted.status, 201);
  const design = await server.request({ method: 'POST', path: '/private', body: { _id: '_design/x' } });
  assert.equal(design.status, 401);
});

test('POST /db: generated or given id, Location without ETag, 409, 415, batch=ok', async () => {
  await admin({ method: 'PUT', path: '/posts' });
  const given = await admin({ method: 'POST', path: '/posts', body: { _id: 'given', a: 1 } });
  assert.equal(given.status, 201);
  assert.deepEqual(given.json, { ok: true, id: 'given', rev: '1-23202479633c2b380f79507a776743d5' });
  assert.equal(given.headers['location'], `${server.baseUrl}/posts/given`);
  assert.equal(given.headers['etag'], undefined);
  assert.equal((await admin({ method: 'POST', path: '/posts', body: { _id: 'given', a: 1 } })).status, 409);
  const generated = await admin({ method: 'POST', path: '/posts', body: { a: 2 } });
  assert.match((generated.json as { id: string }).id, /^[0-9a-f]{32}$/);
  assert.deepEqual((await admin({ method: 'POST', path: '/posts', body: [1] })).json, {
    error: 'bad_request',
    reason: 'Document must be a JSON object',
  });
  assert.deepEqual((await admin({ method: 'POST', path: '/posts', body: '{"a":', headers: { 'Content-Type': 'application/json' } })).json, {
    error: 'bad_request',
    reason: 'invalid UTF-8 JSON',
  });
  const text = await admin({ method: 'POST', path: '/posts', body: '{"a":1}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  const batch = await admin({ method: 'POST', path: '/posts?batch=ok', body: { _id: 'later', v: 1 } });
  assert.equal(batch.status, 202);
  assert.deepEqual(batch.json, { ok: true, id: 'later' });
  assert.equal((await admin({ method: 'POST', path: '/missing_db', body: { a: 1 } })).status, 404);
  const local = await admin({ method: 'POST', path: '/posts', body: { _id: '_local/l', v: 1 } });
  assert.deepEqual(local.json, { ok: true, id: '_local/l', rev: '0-1' });
});

test('unknown /db/_name paths answer as CouchDB', async () => {
  await admin({ method: 'PUT', path: '/paths' });
  assert.deepEqual((await admin({ path: '/paths/_foo' })).json, { error: 'not_found', reason: 'missing' });
  assert.deepEqual((await admin({ method: 'POST', path: '/paths/_foo', body: {} })).json, {
    error: 'bad_request',
    reason: 'Referer header required.',
  });
  assert.equal((await admin({ path: '/nodb/_foo' })).status, 404);
  assert.deepEqual((await admin({ path: '/nodb/_foo' })).json, { error: 'not_found', reason: 'Database does not exist.' });
});

test('_dbs_info: POST keys and GET ranges', async () => {
  await admin({ method: 'PUT', path: '/infodb' });
  const posted = await admin({ method: 'POST', path: '/_dbs_info', body: { keys: ['infodb', 'nope', 1] } });
  assert.equal(posted.status, 200);
  const rows = posted.json as { key: unknown; info?: { db_name: string }; error?: string }[];
  assert.equal(rows[0]?.info?.db_name, 'infodb');
  assert.deepEqual(rows[1], { key: 'nope', error: 'not_found' });
  assert.deepEqual(rows[2], { key: 1, error: 'not_found' });
  const ranged = await admin({ path: '/_dbs_info?start_key="infodb"&end_key="infodb"' });
  assert.deepEqual((ranged.json as { key: string }[]).map((row) => row.key), ['infodb']);
  assert.deepEqual((await admin({ method: 'POST', path: '/_dbs_info', body: {} })).json, {
    error: 'bad_request',
    reason: '`keys` member must exist.',
  });
  assert.deepEqual((await admin({ method: 'POST', path: '/_dbs_info', body: { keys: 'x' } })).json, {
    error: 'bad_request',
    reason: '`keys` member must be an array.',
  });
  assert.equal((await server.request({ path: '/_dbs_info' })).status, 401);
});
