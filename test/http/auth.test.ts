import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/http.js';
import { basicAuth, startTestServer, testAdmin } from '../support/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

const incorrect = { error: 'unauthorized', reason: 'Name or password is incorrect.' };

test('wrong password or unknown user → 401 even on / and /_up', async () => {
  for (const path of ['/', '/_up', '/_session', '/_all_dbs']) {
    const wrong = await server.request({ path, auth: 'admin:nope' });
    assert.equal(wrong.status, 401, path);
    assert.deepEqual(wrong.json, incorrect);
    assert.equal(wrong.headers['www-authenticate'], undefined, 'CouchDB sends no WWW-Authenticate');
    const unknown = await server.request({ path, auth: 'ghost:pw' });
    assert.deepEqual(unknown.json, incorrect);
  }
});

test('malformed Authorization headers', async () => {
  const bad = await server.request({ path: '/', headers: { Authorization: 'Basic !!!' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'bad_request', reason: 'Authorization header has invalid base64 value' });
  const noColon = await server.request({ path: '/', headers: { Authorization: basicAuth('justaname') } });
  assert.equal(noColon.status, 200);
  const bearer = await server.request({ path: '/_session', headers: { Authorization: 'Bearer abc.def' } });
  assert.equal(bearer.status, 200);
  assert.equal((bearer.json as { userCtx: { name: unknown } }).userCtx.name, null);
});

test('GET /_session: anonymous, basic auth, ?basic=true', async () => {
  const anonymous = await server.request({ path: '/_session' });
  assert.deepEqual(anonymous.json, {
    ok: true,
    userCtx: { name: null, roles: [] },
    info: { authentication_handlers: ['cookie', 'default'] },
  });
  assert.equal(anonymous.headers['x-couch-request-id'], undefined, 'couch_httpd-style response');
  const basic = await server.request({ path: '/_session', auth: 'admin' });
  assert.deepEqual(basic.json, {
    ok: true,
    userCtx: { name: 'admin', roles: ['_admin'] },
    info: { authentication_handlers: ['cookie', 'default'], authenticated: 'default' },
  });
  const forced = await server.request({ path: '/_session?basic=true' });
  assert.equal(forced.status, 401);
  assert.deepEqual(forced.json, { error: 'unauthorized', reason: 'Please login.' });
});

function sessionCookie(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? (setCookie[0] ?? '') : (setCookie ?? '');
  const match = /^(AuthSession=[^;]*)/.exec(header);
  assert.ok(match, `no AuthSession in ${header}`);
  return match[1] ?? '';
}

test('cookie login (JSON and form), use, logout', async () => {
  const login = await server.request({
    method: 'POST',
    path: '/_session',
    body: { name: testAdmin.name, password: testAdmin.password },
  });
  assert.equal(login.status, 200);
  assert.deepEqual(login.json, { ok: true, name: 'admin', roles: ['_admin'] });
  const setCookie = String(login.headers['set-cookie']);
  assert.match(setCookie, /^AuthSession=[A-Za-z0-9_-]+; Version=1; Expires=[^;]+ GMT; Max-Age=600; Path=\/; HttpOnly$/);
  const cookie = sessionCookie(login.headers['set-cookie']);
  const decoded = Buffer.from(cookie.slice('AuthSession='.length), 'base64url');
  assert.match(decoded.subarray(0, decoded.indexOf(0x3a, 6)).toString(), /^admin:[0-9A-F]+$/);
  assert.equal(decoded.length - decoded.indexOf(0x3a, 6) - 1, 32, 'raw HMAC-SHA256');

  const withCookie = await server.request({ path: '/_session', headers: { Cookie: cookie } });
  assert.deepEqual(withCookie.json, {
    ok: true,
    userCtx: { name: 'admin', roles: ['_admin'] },
    info: { authentication_handlers: ['cookie', 'default'], authenticated: 'cookie' },
  });
  assert.equal((await server.request({ path: '/_all_dbs', headers: { Cookie: cookie } })).status, 200);

  const form = await server.request({
    method: 'POST',
    path: '/_session',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `name=${testAdmin.name}&password=${encodeURIComponent(testAdmin.password)}`,
  });
  assert.equal(form.status, 200);

  const logout = await server.request({ method: 'DELETE', path: '/_session', headers: { Cookie: cookie } });
  assert.equal(logout.status, 200);
  assert.deepEqual(logout.json, { ok: true });
  const cleared = String(logout.headers['set-cookie']);
  assert.match(cleared, /^AuthSession=; Version=1; Expires=[^;]+; Max-Age=600; Path=\/; HttpOnly$/);
  const expires = /Expires=([^;]+)/.exec(cleared)?.[1] ?? '';
  assert.ok(Date.parse(expires) > Date.now(), 'CouchDB sends a future expiry on logout');
});

test('POST /_session errors and ?next redirect', async () => {
  const missing = await server.request({ method: 'POST', path: '/_session', body: {} });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.json, { error: 'bad_request', reason: 'request body must contain a username' });
  const different = await server.request({ method: 'POST', path: '/_session', body: { name: 'a', username: 'b' } });
  assert.deepEqual(different.json, { error: 'bad_request', reason: 'request body contains different usernames' });
  const badType = await server.request({
    method: 'POST',
    path: '/_session',
    headers: { 'Content-Type': 'text/plain' },
    body: 'name=admin',
  });
  assert.equal(badType.status, 415);
  assert.equal((badType.json as { error: string }).error, 'bad_content_type');
  const malformed = await server.request({ method: 'POST', path: '/_session', headers: { 'Content-Type': 'application/json' }, body: '{"name":' });
  assert.deepEqual(malformed.json, { error: 'bad_request', reason: 'invalid UTF-8 JSON' });

  const wrong = await server.request({ method: 'POST', path: '/_session', body: { name: 'nobody-here', password: 'x' } });
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.json, incorrect);
  assert.match(String(wrong.headers['set-cookie']), /^AuthSession=;/);

  const next = await server.request({
    method: 'POST',
    path: '/_session?next=/_up',
    headers: { Host: 'example.test:5984' },
    body: { name: testAdmin.name, password: testAdmin.password },
  });
  assert.equal(next.status, 302);
  assert.equal(next.headers['location'], 'http://example.test:5984/_up');
});

test('garbage and forged cookies', async () => {
  const garbage = await server.request({ path: '/', headers: { Cookie: 'AuthSession=garbage' } });
  assert.equal(garbage.status, 400);
  assert.deepEqual(garbage.json, { error: 'bad_request', reason: 'Malformed AuthSession cookie. Please clear your cookies.' });
  const forged = Buffer.from(`admin:${Math.floor(Date.now() / 1000).toString(16).toUpperCase()}:${'x'.repeat(32)}`).toString('base64url');
  const response = await server.request({ path: '/_session', headers: { Cookie: `AuthSession=${forged}` } });
  assert.equal(response.status, 200, 'a forged cookie is ignored, not an error');
  assert.equal((response.json as { userCtx: { name: unknown } }).userCtx.name, null);
});

test('lockout: 5 failures from one address lock the user out for everyone there, right password included', async () => {
  const locked = await startTestServer();
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      assert.equal((await locked.request({ path: '/', auth: 'admin:wrong' })).status, 401);
    }
    const sixth = await locked.request({ path: '/', auth: 'admin' });
    assert.equal(sixth.status, 403);
    assert.deepEqual(sixth.json, {
      error: 'forbidden',
      reason: 'Account is temporarily locked due to multiple authentication failures',
    });
    const viaSession = await locked.request({
      method: 'POST',
      path: '/_session',
      body: { name: testAdmin.name, password: testAdmin.password },
    });
    assert.equal(viaSession.status, 403);
    assert.equal((await locked.request({ path: '/' })).status, 200, 'anonymous requests are unaffected');
  } finally {
    await locked.close();
  }
});
