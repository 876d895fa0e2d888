import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseFileFor } from './catalog.js';

test('database files are sharded by name hash and escape every unsafe byte', () => {
  const file = databaseFileFor('a/b$(c)+d_e-f', 1_000_000);
  assert.match(file, /^shards\/[0-9a-f]{2}\/a=2fb=24=28c=29=2bd_e-f\.[0-9a-z]+\.sqlite$/);
  assert.equal(databaseFileFor('same', 1), databaseFileFor('same', 1));
  assert.notEqual(databaseFileFor('same', 1), databaseFileFor('same', 2), 'a recreated database gets a new file');
  assert.match(databaseFileFor('Ünï', 1), /\/=c3=9cn=c3=af\./, 'upper case and non-ASCII are escaped');
});

test('long names are shortened with a hash, keeping distinct names distinct', () => {
  const long = 'a/'.repeat(200);
  const file = databaseFileFor(long, 1);
  const base = file.split('/').at(-1) ?? '';
  assert.ok(base.length < 160, base);
  assert.notEqual(databaseFileFor(`${long}x`, 1), file);
});
