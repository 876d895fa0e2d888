import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from './json-parse.js';
import type { JsonObject } from './json-value.js';
import { computeRev, computeRevHash, encodeRevTerm, parentHashBytes } from './revid.js';
import { formatRev } from './rev.js';

const newRev = (text: string): string =>
  formatRev(computeRev({ deleted: false, parent: null, body: parseJson(text) as JsonObject, attachments: [] }));

test('documented and recorded revisions of new documents', () => {
  assert.equal(newRev('{}'), '1-967a00dff5e02add41819138abb3284d');
  assert.equal(newRev('{"count":1}'), '1-74620ecf527d29daaab9c2b465fbce66');
  assert.equal(newRev('{"a":1}'), '1-23202479633c2b380f79507a776743d5');
  assert.equal(newRev('{"a":"1"}'), '1-424729a81cdea68c1eb75501986bb552');
  assert.equal(newRev('{"a":-1}'), '1-36263f269caa4db3b190ba9d68b9bdf8');
  assert.equal(newRev('{"a":256}'), '1-6528e394d3c2502a646ee64043be6186');
  assert.equal(newRev('{"a":null}'), '1-958951ed47ccad041978591c92245914');
  assert.equal(newRev('{"a":[]}'), '1-d49a64a623a0fcc15fb2a4e9edf20834');
  assert.equal(newRev('{"a":{}}'), '1-3a998deb00874a1aa37c51ab7d1665df');
});

test('strings hash as UTF-8 after unescaping', () => {
  assert.equal(newRev('{"s":"é"}'), '1-8bfeadbb4053dc61dac2847a61df2c5f');
  assert.equal(newRev('{"s":"\\u00e9"}'), '1-8bfeadbb4053dc61dac2847a61df2c5f');
  assert.equal(newRev('{"s":"e\\u0301"}'), '1-c31832c92a1299a2508b7147a39e87d0');
  assert.equal(newRev('{"s":"\\ud83d\\ude00"}'), '1-6f12357206b0fd996c6ecdd528a7829a');
  assert.equal(newRev('{"s":"😀"}'), '1-6f12357206b0fd996c6ecdd528a7829a');
  assert.equal(newRev('{"s":"\\u0000"}'), '1-1a64eb12cf9c1a46338e0ffedbc589c1');
  assert.equal(newRev('{"s":"\\u2028\\u2029"}'), '1-88b8ae36d3db3f9126d5e193133ecaa2');
  assert.equal(newRev(`{"s":"${'x'.repeat(300)}"}`), '1-1e93a6a31423e1f0f7f8679592d077f2');
  assert.equal(newRev('{"日本語":"中文","clé":"valeur"}'), '1-c10e890a88a1ced45171310aedc7a504');
});

test('key order matters; duplicates hash as their last occurrence', () => {
  assert.equal(newRev('{"a":1,"b":2}'), '1-25f9b97d75a648d1fcd23f0a73d2776e');
  assert.equal(newRev('{"b":2,"a":1}'), '1-caca8b193c5fc9720d024664e9310ed2');
  assert.equal(newRev('{"a":1,"b":2,"a":3}'), '1-cf8195ee4268460f49235c8e98d42c6f');
  assert.equal(newRev('{"x":{"a":1,"b":2,"a":3}}'), '1-5fcb279318097164360622d44905a944');
  assert.equal(newRev('{"a":1,"a":1}'), '1-23202479633c2b380f79507a776743d5');
});

test('array-index keys keep their document order', () => {
  assert.notEqual(newRev('{"b":1,"0":2}'), newRev('{"0":2,"b":1}'));
});

test('a parent hash of 32 hex digits is hashed as 16 bytes, in any case', () => {
  const lower = 'abcdef0123456789abcdef0123456789';
  assert.deepEqual(parentHashBytes(lower), Buffer.from(lower, 'hex'));
  assert.deepEqual(parentHashBytes(lower.toUpperCase()), Buffer.from(lower, 'hex'));
  assert.deepEqual(parentHashBytes('abc'), Buffer.from('abc'));
  assert.deepEqual(parentHashBytes(lower.slice(1)), Buffer.from(lower.slice(1)));
  const edit = (hash: string): string =>
    computeRevHash({ deleted: false, parent: { pos: 1, hash }, body: { a: 1 }, attachments: [] });
  assert.equal(edit(lower), edit(lower.toUpperCase()));
  assert.match(edit('abc'), /^[0-9a-f]{32}$/);
});

test('the hashed term has the documented layout', () => {
  const bytes = encodeRevTerm({
    deleted: true,
    parent: { pos: 2, hash: 'zz' },
    body: {},
    attachments: [
      { name: 'a', contentType: 't', md5: new Uint8Array([1]) },
      { name: 'b', contentType: 'u', md5: new Uint8Array([2]) },
    ],
  });
  const expected = [
    131, 108, 0, 0, 0, 5,
    100, 0, 4, ...Buffer.from('true'),
    97, 2,
    109, 0, 0, 0, 2, 0x7a, 0x7a,
    104, 1, 106,
    108, 0, 0, 0, 2,
    104, 3, 109, 0, 0, 0, 1, 0x62, 109, 0, 0, 0, 1, 0x75, 109, 0, 0, 0, 1, 2,
    104, 3, 109, 0, 0, 0, 1, 0x61, 109, 0, 0, 0, 1, 0x74, 109, 0, 0, 0, 1, 1,
    106,
    106,
  ];
  assert.deepEqual([...bytes], expected);
});
