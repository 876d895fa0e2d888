import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { serverHeader } from '../../src/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

test('GET / welcomes with CouchDB 3.4.3 shape and standard headers', async () => {
  const response = await server.request({ path: '/' });
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, {
    couchdb: 'Welcome',
    version: '3.4.3',
    git_sha: '',
    uuid: '0123456789abcdef0123456789abcdef',
    features: [],
    vendor: { name: 'Settee', version: '0.1.0' },
  });
  assert.ok(response.text.endsWith('}\n'));
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(response.headers['cache-control'], 'must-revalidate');
  assert.equal(response.headers['x-couchdb-body-time'], '0');
  assert.match(String(response.headers['x-couch-request-id']), /^[0-9a-f]{10}$/);
  assert.equal(response.headers['server'], serverHeader);
  assert.ok(response.headers['date']);
  assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)));
});

test('a sane X-Couch-Request-ID is echoed, an unsafe one replaced', async () => {
  const echoed = await server.request({ path: '/', headers: { 'X-Couch-Request-ID': 'abc-123_X' } });
  assert.equal(echoed.headers['x-couch-request-id'], 'abc-123_X');
  const replaced = await server.request({ path: '/', headers: { 'X-Couch-Request-ID': 'a b' } });
  assert.match(String(replaced.headers['x-couch-request-id']), /^[0-9a-f]{10}$/);
});

test('HEAD / has the GET headers and no body', async () => {
  const get = await server.request({ path: '/' });
  const head = await server.request({ method: 'HEAD', path: '/' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers['content-length'], get.headers['content-length']);
  assert.equal(head.headers['content-type'], 'application/json');
});

test('method errors name the allowed methods and send Allow', async () => {
  const root = await server.request({ method: 'POST', path: '/', body: {} });
  assert.equal(root.status, 405);
  assert.deepEqual(root.json, { error: 'method_not_allowed', reason: 'Only GET,HEAD allowed' });
  assert.equal(root.headers['allow'], 'GET,HEAD');
  const uuids = await server.request({ method: 'DELETE', path: '/_uuids' });
  assert.deepEqual(uuids.json, { error: 'method_not_allowed', reason: 'Only GET allowed' });
  const allDbs = await server.request({ method: 'PUT', path: '/_all_dbs', body: {}, auth: 'admin' });
  assert.deepEqual(allDbs.json, { error: 'method_not_allowed', reason: 'Only GET,HEAD allowed' });
  const session = await server.request({ method: 'PUT', path: '/_session', body: {} });
  assert.deepEqual(session.json, { error: 'method_not_allowed', reason: 'Only GET,HEAD,POST,DELETE allowed' });
});

test('/_up is public', async () => {
  const response = await server.request({ path: '/_up' });
  assert.equal(response.status, 200);
  assert.equal(response.text, '{"status":"ok","seeds":{}}\n');
  const head = await server.request({ method: 'HEAD', path: '/_up' });
  assert.equal(head.headers['content-length'], '27');
});

test('/_uuids: counts, errors and no-cache headers', async () => {
  const one = await server.request({ path: '/_uuids' });
  assert.equal(one.status, 200);
  const list = (one.json as { uuids: string[] }).uuids;
  assert.equal(list.length, 1);
  assert.match(list[0] ?? '', /^[0-9a-f]{32}$/);
  assert.equal(one.headers['cache-control'], 'no-cache');
  assert.equal(one.headers['pragma'], 'no-cache');
  assert.equal(one.headers['expires'], 'Mon, 01 Jan 1990 00:00:00 GMT');
  assert.ok(one.headers['etag']);

  assert.deepEqual((await server.request({ path: '/_uuids?count=0' })).json, { uuids: [] });
  const many = (await server.request({ path: '/_uuids?count=1000' })).json as { uuids: string[] };
  assert.equal(many.uuids.length, 1000);
  assert.equal(new Set(many.uuids).size, 1000);

  for (const [query, reason] of [
    ['count=1001', 'count parameter too large'],
    ['count=abc', 'count must be a positive integer'],
    ['count=-1', 'count must be a positive integer'],
    ['count=1.5', 'count must be a positive integer'],
  ] as const) {
    const response = await server.request({ path: `/_uuids?${query}` });
    assert.equal(response.status, 400, query);
    assert.deepEqual(response.json, { error: 'bad_request', reason }, query);
  }
});

test('/_uuids are sequential: one 26-hex prefix, growing suffix', async () => {
  const { uuids } = (await server.request({ path: '/_uuids?count=50' })).json as { uuids: string[] };
  const prefixes = new Set(uuids.map((uuid) => uuid.slice(0, 26)));
  assert.ok(prefixes.size <= 2, 'prefix changes at most once (counter rollover)');
  for (let index = 1; index < uuids.length; index++) {
    const previous = uuids[index - 1] ?? '';
    const current = uuids[index] ?? '';
    if (previous.slice(0, 26) === current.slice(0, 26)) assert.ok(current > previous);
  }
});

test('/_all_dbs is admin only and takes range parameters', async () => {
  const anonymous = await server.request({ path: '/_all_dbs' });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.json, { error: 'unauthorized', reason: 'You are not a server admin.' });
  const anonymousPut = await server.request({ method: 'PUT', path: '/_all_dbs' });
  assert.equal(anonymousPut.status, 401, 'authorization comes before the method check');

  const couch = server.services.couch;
  for (const name of ['beta', 'alpha', 'gamma']) await couch.createDatabase(name);
  if (!(await couch.exists('_users'))) await couch.createDatabase('_users');
  const all = await server.request({ path: '/_all_dbs', auth: 'admin' });
  assert.equal(all.status, 200);
  assert.deepEqual(
    (all.json as string[]).filter((name) => name !== '_replicator'),
    ['_users', 'alpha', 'beta', 'gamma'],
  );
  const ranged = await server.request({ path: '/_all_dbs?start_key=%22alpha%22&end_key=%22beta%22', auth: 'admin' });
  assert.deepEqual(ranged.json, ['alpha', 'beta']);
  const oldNames = await server.request({ path: '/_all_dbs?startkey="beta"&endkey="beta"', auth: 'admin' });
  assert.deepEqual(oldNames.json, ['beta']);
  assert.deepEqual((await server.request({ path: '/_all_dbs?limit=0', auth: 'admin' })).json, []);
  assert.deepEqual((await server.request({ path: '/_all_dbs?start_key="alpha"&limit=1&skip=1', auth: 'admin' })).json, ['beta']);
  assert.deepEqual((await server.request({ path: '/_all_dbs?descending=true&limit=2', auth: 'admin' })).json, ['gamma', 'beta']);
  assert.deepEqual(
    (await server.request({ path: '/_all_dbs?start_key="alpha"&end_key="gamma"&inclusive_end=false', auth: 'admin' })).json,
    ['alpha', 'beta'],
  );

  const badKey = await server.request({ path: '/_all_dbs?start_key=bad', auth: 'admin' });
  assert.equal(badKey.status, 400);
  assert.deepEqual(badKey.json, { error: 'bad_request', reason: 'invalid UTF-8 JSON' });
  const badLimit = await server.request({ path: '/_all_dbs?limit=-1', auth: 'admin' });
  assert.deepEqual(badLimit.json, { error: 'query_parse_error', reason: 'Invalid value for positive integer: "-1"' });
  const badBool = await server.request({ path: '/_all_dbs?descending=maybe', auth: 'admin' });
  assert.deepEqual(badBool.json, { error: 'query_parse_error', reason: 'Invalid boolean parameter: "maybe"' });
});

test('unknown top-level _paths are database names (admin only)', async () => {
  const admin = await server.request({ path: '/_foo', auth: 'admin' });
  assert.equal(admin.status, 404);
  assert.deepEqual(admin.json, { error: 'not_found', reason: 'Database does not exist.' });
  assert.equal((await server.request({ path: '/_foo/bar', auth: 'admin' })).status, 404);
  const anonymous = await server.request({ path: '/_foo' });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.json, { error: 'unauthorized', reason: 'You are not a server admin.' });
});

test('/_active_tasks is admin only and empty', async () => {
  assert.equal((await server.request({ path: '/_active_tasks' })).status, 401);
  const response = await server.request({ path: '/_active_tasks', auth: 'admin' });
  assert.equal(response.status, 200);
  assert.equal(response.text, '[]\n');
});

test('/favicon.ico is a plain-text 404', async () => {
  const response = await server.request({ path: '/favicon.ico' });
  assert.equal(response.status, 404);
  assert.equal(response.text, 'Not found.');
  assert.equal(response.headers['content-type'], 'text/plain');
});

test('invalid percent-encoding is a 400 before anything else', async () => {
  const response = await server.request({ path: '/db%zz' });
  assert.equal(response.status, 400);
  assert.deepEqual(response.json, { error: 'bad_request', reason: 'invalid_url_encoding' });
});
