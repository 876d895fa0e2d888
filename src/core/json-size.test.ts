import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateJsonBytes } from './json-size.js';
import { parseJson } from './json-parse.js';
import { stringifyJson } from './json-write.js';

test('plain documents are estimated at their compact text size', () => {
  for (const text of ['{}', '[]', '{"a":1}', '{"a":[1,2,3],"b":{"c":null,"d":true,"e":false}}', '{"name":"Zürich","n":-12.5}']) {
    const value = parseJson(text);
    assert.equal(estimateJsonBytes(value), Buffer.byteLength(stringifyJson(value)), text);
  }
});

test('escapes are not counted, as CouchDB does not count them', () => {
  assert.equal(estimateJsonBytes(parseJson('"a\\nb"')), 5);
});

test('counting stops past the bound', () => {
  const big = parseJson(`{"a":"${'x'.repeat(1000)}","b":"${'y'.repeat(1000)}"}`);
  const estimate = estimateJsonBytes(big, 100);
  assert.ok(estimate > 100 && estimate < 2000, String(estimate));
  assert.equal(estimateJsonBytes(big), Buffer.byteLength(stringifyJson(big)));
});

test('deep nesting does not overflow the stack', () => {
  const depth = 100_000;
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  assert.equal(estimateJsonBytes(value as never), 2 * (depth + 1));
});
