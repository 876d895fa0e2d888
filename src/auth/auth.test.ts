import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { Authenticator, parseBasicAuthorization } from './authenticator.js';
import { CredentialCache, credentialKeyCharsMax } from './credential-cache.js';
import { formatPasswordHash, hashPassword, parsePasswordHash, verifyPassword } from './password-hash.js';
import { makeSessionCookieValue, parseSessionCookieValue } from './session-cookie.js';
import { defaultHttpLimits } from '../core/limits.js';

test('admin hashes in CouchDB 3.4 format round-trip and verify', async () => {
  const hash = await hashPassword('pw', { iterations: 10, salt: '0123456789abcdef0123456789abcdef' });
  const text = formatPasswordHash(hash);
  const expectedKey = pbkdf2Sync('pw', '0123456789abcdef0123456789abcdef', 10, 32, 'sha256').toString('hex');
  assert.equal(text, `-pbkdf2:sha256-${expectedKey},0123456789abcdef0123456789abcdef,10`);
  assert.deepEqual(parsePasswordHash(text), hash);
  assert.equal(await verifyPassword('pw', hash), true);
  assert.equal(await verifyPassword('nope', hash), false);
  // the older `-pbkdf2-` form means PRF sha1
  const sha1Key = pbkdf2Sync('pw', 'salt', 3, 20, 'sha1').toString('hex');
  const legacy = parsePasswordHash(`-pbkdf2-${sha1Key},salt,3`);
  assert.equal(legacy?.scheme === 'pbkdf2' && legacy.prf, 'sha1');
  assert.equal(await verifyPassword('pw', legacy!), true);
  assert.equal(parsePasswordHash('plain-text-password'), undefined);
});

test('Basic authorization parsing follows CouchDB', () => {
  const encode = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.deepEqual(parseBasicAuthorization(encode('a:b:c')), { name: 'a', password: 'b:c' });
  assert.equal(parseBasicAuthorization(encode('nocolon')), undefined);
  assert.equal(parseBasicAuthorization(encode('_:_')), undefined);
  assert.equal(parseBasicAuthorization('Bearer x'), undefined);
  assert.equal(parseBasicAuthorization(undefined), undefined);
  assert.throws(() => parseBasicAuthorization('Basic !!!'), /invalid base64/);
});

test('session cookies: format, expiry after the timeout, refresh after 10%', async () => {
  let nowMs = 1_700_000_000_000;
  const hash = await hashPassword('pw', { iterations: 5, salt: 'abc' });
  const authenticator = new Authenticator({
    admins: new Map([['admin', hash]]),
    secret: 's3cret',
    sessionTimeoutSeconds: 600,
    limits: defaultHttpLimits,
    now: () => nowMs,
  });
  const value = await authenticator.sessionCookieFor('admin');
  assert.equal(value, makeSessionCookieValue('admin', nowMs / 1000, 's3cretabc'));
  const fields = parseSessionCookieValue(value);
  assert.equal(fields.name, 'admin');
  assert.equal(fields.timeSeconds, nowMs / 1000);

  const fresh = await authenticator.authenticate({ sessionCookie: value, peer: 'p' });
  assert.deepEqual(fresh.user, { name: 'admin', roles: ['_admin'] });
  assert.equal(fresh.method, 'cookie');
  assert.equal(fresh.refreshedCookie, undefined);

  nowMs += 61_000; // past 10% of the lifetime: a new cookie is issued
  const refreshed = await authenticator.authenticate({ sessionCookie: value, peer: 'p' });
  assert.ok(refreshed.refreshedCookie);
  assert.equal(parseSessionCookieValue(refreshed.refreshedCookie).timeSeconds, nowMs / 1000);

  nowMs += 600_000; // expired: anonymous, not an error
  const expired = await authenticator.authenticate({ sessionCookie: value, peer: 'p' });
  assert.equal(expired.user.name, null);

  const otherSecret = new Authenticator({
    admins: new Map([['admin', hash]]),
    secret: 'other',
    sessionTimeoutSeconds: 600,
    limits: defaultHttpLimits,
    now: () => nowMs,
  });
  const forged = await otherSecret.authenticate({ sessionCookie: makeSessionCookieValue('admin', nowMs / 1000, 's3cretabc'), peer: 'p' });
  assert.equal(forged.user.name, null);
});

test('verified passwords are cached: the second check skips PBKDF2', async () => {
  const hash = await hashPassword('pw', { iterations: 200_000, salt: 'slow' });
  const authenticator = new Authenticator({
    admins: new Map([['admin', hash]]),
    secret: 's',
    sessionTimeoutSeconds: 600,
    limits: defaultHttpLimits,
  });
  const header = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  await authenticator.authenticate({ authorization: header, peer: 'p' });
  const started = process.hrtime.bigint();
  for (let index = 0; index < 100; index++) await authenticator.authenticate({ authorization: header, peer: 'p' });
  const perCheckMs = Number(process.hrtime.bigint() - started) / 1e6 / 100;
  assert.ok(perCheckMs < 1, `cached check took ${perCheckMs} ms`);
  await assert.rejects(authenticator.authenticate({ authorization: `Basic ${Buffer.from('admin:bad').toString('base64')}`, peer: 'p' }), /Name or password is incorrect/);
});

test('lockout expires lockoutMs after the first failure', async () => {
  let nowMs = 0;
  const hash = await hashPassword('pw', { iterations: 2, salt: 'x' });
  const authenticator = new Authenticator({
    admins: new Map([['admin', hash]]),
    secret: 's',
    sessionTimeoutSeconds: 600,
    limits: { ...defaultHttpLimits, authFailuresMax: 2, authLockoutMs: 1000 },
    now: () => nowMs,
  });
  const bad = `Basic ${Buffer.from('admin:bad').toString('base64')}`;
  const good = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  await assert.rejects(authenticator.authenticate({ authorization: bad, peer: 'a' }), /incorrect/);
  await assert.rejects(authenticator.authenticate({ authorization: bad, peer: 'a' }), /incorrect/);
  await assert.rejects(authenticator.authenticate({ authorization: good, peer: 'a' }), /temporarily locked/);
  assert.equal((await authenticator.authenticate({ authorization: good, peer: 'b' })).user.name, 'admin', 'per peer');
  nowMs = 1000;
  assert.equal((await authenticator.authenticate({ authorization: good, peer: 'a' })).user.name, 'admin');
});

test('a cached Basic header stops working once the password changes', async () => {
  const first = await hashPassword('old', { iterations: 2, salt: 'one' });
  const second = await hashPassword('new', { iterations: 2, salt: 'two' });
  const sameSaltOtherKey = await hashPassword('other', { iterations: 2, salt: 'two' });
  let current = first;
  const authenticator = new Authenticator({
    admins: new Map(),
    secret: 's',
    sessionTimeoutSeconds: 600,
    limits: defaultHttpLimits,
    users: { findUser: (name) => Promise.resolve(name === 'bob' ? { name, roles: ['r'], hash: current } : undefined) },
  });
  const basic = (password: string): string => `Basic ${Buffer.from(`bob:${password}`).toString('base64')}`;
  assert.deepEqual((await authenticator.authenticate({ authorization: basic('old'), peer: 'p' })).user, { name: 'bob', roles: ['r'] });
  assert.equal((await authenticator.authenticate({ authorization: basic('old'), peer: 'p' })).user.name, 'bob', 'cached');
  current = second;
  await assert.rejects(authenticator.authenticate({ authorization: basic('old'), peer: 'p' }), /incorrect/);
  assert.equal((await authenticator.authenticate({ authorization: basic('new'), peer: 'p' })).user.name, 'bob');
  current = sameSaltOtherKey; // same salt, different key: still a different password
  await assert.rejects(authenticator.authenticate({ authorization: basic('new'), peer: 'p' }), /incorrect/);
  assert.equal(await authenticator.login('bob', 'other', 'p').then((user) => user.name), 'bob');
});

test('the lockout applies to cached credentials too', async () => {
  const hash = await hashPassword('pw', { iterations: 2, salt: 'x' });
  const authenticator = new Authenticator({
    admins: new Map([['admin', hash]]),
    secret: 's',
    sessionTimeoutSeconds: 600,
    limits: { ...defaultHttpLimits, authFailuresMax: 2, authLockoutMs: 60_000 },
  });
  const good = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const bad = `Basic ${Buffer.from('admin:bad').toString('base64')}`;
  assert.equal((await authenticator.authenticate({ authorization: good, peer: 'a' })).user.name, 'admin');
  await assert.rejects(authenticator.authenticate({ authorization: bad, peer: 'a' }), /incorrect/);
  await assert.rejects(authenticator.authenticate({ authorization: bad, peer: 'a' }), /incorrect/);
  await assert.rejects(authenticator.authenticate({ authorization: good, peer: 'a' }), /temporarily locked/);
});

test('the credential cache is bounded and its entries expire', async () => {
  let nowMs = 0;
  const hash = await hashPassword('pw', { iterations: 2, salt: 'x' });
  const cache = new CredentialCache({ entriesMax: 2, ttlMs: 1000, now: () => nowMs });
  cache.remember('a', 'alice', hash);
  cache.remember('b', 'bob', hash);
  cache.remember('c', 'carol', hash);
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup('a'), undefined, 'the oldest went first');
  assert.equal(cache.lookup('c')?.name, 'carol');
  cache.remember('x'.repeat(credentialKeyCharsMax + 1), 'long', hash);
  assert.equal(cache.lookup('x'.repeat(credentialKeyCharsMax + 1)), undefined, 'over-long keys are not kept');
  nowMs = 1000;
  assert.equal(cache.lookup('c'), undefined, 'expired');
  assert.equal(cache.size, 1);
});
