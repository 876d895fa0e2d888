import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ConfigError, parseIni, resolveConfig, setteeVersion } from '../../src/config.js';
import { parsePasswordHash, verifyPassword } from '../../src/auth/password-hash.js';
import { prepareDataDir } from '../../src/server.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'settee-config-'));
}

test('the version constant matches package.json', async () => {
  const pkg = JSON.parse(await readFile(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
  assert.equal(setteeVersion, pkg.version);
});

test('ini parsing: sections, comments, inline comments, strict errors', () => {
  const ini = parseIni('; comment\n[couchdb]\nmax_document_size = 8000000 ; bytes\n\n[admins]\nbob = -pbkdf2-ab,cd,10\n');
  assert.equal(ini.get('couchdb')?.get('max_document_size'), '8000000');
  assert.equal(ini.get('admins')?.get('bob'), '-pbkdf2-ab,cd,10');
  assert.throws(() => parseIni('[a]\nnot a pair\n', 'x.ini'), /x\.ini:2/);
  assert.throws(() => parseIni('key = outside\n'), ConfigError);
});

test('defaults', () => {
  const cwd = tempDir();
  const config = resolveConfig({ argv: [], env: {}, cwd });
  assert.equal(config.port, 5984);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.dataDir, join(cwd, 'data'));
  assert.equal(config.uuidAlgorithm, 'sequential');
  assert.equal(config.sessionTimeoutSeconds, 600);
  assert.equal(config.admins.size, 0);
});

test('precedence: flags > env > ini > defaults', () => {
  const cwd = tempDir();
  writeFileSync(
    join(cwd, 'my.ini'),
    '[chttpd]\nport = 1111\nbind_address = 0.0.0.0\nmax_http_request_size = 2048\n[couchdb]\ndatabase_dir = ini-data\n' +
      '[log]\nlevel = warn\n[chttpd_auth]\nsecret = s\ntimeout = 60\n[uuids]\nalgorithm = random\n[admins]\nbob = pw\n',
  );
  const iniOnly = resolveConfig({ argv: ['--config', 'my.ini'], env: {}, cwd });
  assert.equal(iniOnly.port, 1111);
  assert.equal(iniOnly.host, '0.0.0.0');
  assert.equal(iniOnly.dataDir, join(cwd, 'ini-data'));
  assert.equal(iniOnly.limits.requestBytesMax, 2048);
  assert.equal(iniOnly.logLevel, 'warning');
  assert.equal(iniOnly.secret, 's');
  assert.equal(iniOnly.sessionTimeoutSeconds, 60);
  assert.equal(iniOnly.uuidAlgorithm, 'random');
  assert.equal(iniOnly.admins.get('bob'), 'pw');

  const env = { SETTEE_CONFIG: 'my.ini', SETTEE_PORT: '2222', SETTEE_HOST: '::1', SETTEE_DATA: 'env-data', SETTEE_ADMIN: 'eve:pw2' };
  const envWins = resolveConfig({ argv: [], env, cwd });
  assert.equal(envWins.port, 2222);
  assert.equal(envWins.host, '::1');
  assert.equal(envWins.dataDir, join(cwd, 'env-data'));
  assert.equal(envWins.admins.get('eve'), 'pw2');
  assert.equal(envWins.admins.get('bob'), 'pw');

  const flagsWin = resolveConfig({ argv: ['--port', '3333', '--host', 'localhost', '--data', 'flag-data', '--admin', 'al:x:y'], env, cwd });
  assert.equal(flagsWin.port, 3333);
  assert.equal(flagsWin.host, 'localhost');
  assert.equal(flagsWin.dataDir, join(cwd, 'flag-data'));
  assert.equal(flagsWin.admins.get('al'), 'x:y');
});

test('bad configuration is a ConfigError', () => {
  const cwd = tempDir();
  assert.throws(() => resolveConfig({ argv: ['--port', 'abc'], env: {}, cwd }), ConfigError);
  assert.throws(() => resolveConfig({ argv: ['--bogus'], env: {}, cwd }), ConfigError);
  assert.throws(() => resolveConfig({ argv: ['--admin', 'nocolon'], env: {}, cwd }), ConfigError);
  assert.throws(() => resolveConfig({ argv: ['--config', 'missing.ini'], env: {}, cwd }), ConfigError);
  writeFileSync(join(cwd, 'bad.ini'), '[uuids]\nalgorithm = nope\n');
  assert.throws(() => resolveConfig({ argv: ['--config', 'bad.ini'], env: {}, cwd }), /algorithm/);
});

test('with no admin anywhere, one is created, persisted hashed, and reused after restart', async () => {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'fast.ini'), '[chttpd_auth]\niterations = 10\n');
  const argv = ['--config', 'fast.ini'];
  const first = await prepareDataDir(resolveConfig({ argv, env: {}, cwd }));
  assert.ok(first.createdAdmin);
  assert.equal(first.createdAdmin.name, 'admin');
  const iniPath = join(cwd, 'data', 'settee.ini');
  const text = readFileSync(iniPath, 'utf8');
  assert.ok(!text.includes(first.createdAdmin.password), 'the password is never stored in clear');
  assert.equal(statSync(iniPath).mode & 0o077, 0, 'settee.ini is private');
  const stored = first.config.admins.get('admin') ?? '';
  const hash = parsePasswordHash(stored);
  assert.ok(hash);
  assert.match(stored, /^-pbkdf2:sha256-[0-9a-f]{64},[0-9a-f]{32},10$/);
  assert.equal(await verifyPassword(first.createdAdmin.password, hash), true);

  const second = await prepareDataDir(resolveConfig({ argv, env: {}, cwd }));
  assert.equal(second.createdAdmin, undefined);
  assert.equal(second.config.admins.get('admin'), stored);
  assert.equal(second.config.secret, first.config.secret, 'the cookie secret survives restarts');
  assert.equal(second.config.serverUuid, first.config.serverUuid);
});

test('an admin given by flag means no admin is generated', async () => {
  const cwd = tempDir();
  const prepared = await prepareDataDir(resolveConfig({ argv: ['--admin', 'root:pw'], env: {}, cwd }));
  assert.equal(prepared.createdAdmin, undefined);
  assert.ok(!readFileSync(join(cwd, 'data', 'settee.ini'), 'utf8').includes('root'), 'flag admins are not persisted');
});
