import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collateJson, collateStrings, compareCodePoints, compareJson, compareNumbers } from './collation.js';
import { parseJson } from './json-parse.js';
import { JsonFloat, type JsonValue } from './json-value.js';

const sorted = (values: readonly JsonValue[]): JsonValue[] => [...values].sort(compareJson);

test('the golden view_collation order (CouchDB 3.4.3)', () => {
  const golden: JsonValue[] = [
    null, false, true, -1, 0, 1, 1.5, 2, 10, '', '~', '1', 'a', 'A', 'aa', 'b', 'B', 'é', 'Z',
    [], [1], [1, 2], ['a'], {}, { a: 1 }, { b: 1 },
  ];
  const shuffled = [...golden].reverse();
  shuffled.push(shuffled.shift() as JsonValue);
  assert.deepEqual(sorted(shuffled), golden);
  for (let i = 1; i < golden.length; i++) {
    assert.equal(collateJson(golden[i - 1] as JsonValue, golden[i] as JsonValue), -1, `${JSON.stringify(golden[i - 1])} < ${JSON.stringify(golden[i])}`);
  }
});

test('the collation docs examples: case-insensitive first, lowercase before uppercase', () => {
  const keys = ['bb', 'B', 'a', 'ba', 'b', 'A', 'aa'];
  assert.deepEqual(sorted(keys), ['a', 'A', 'aa', 'b', 'B', 'ba', 'bb']);
  assert.ok(collateStrings('A', 'aa') < 0);
  assert.ok(collateStrings('a', 'AA') < 0);
  // Symbols sort before digits and letters, even the "high" tilde.
  assert.ok(collateStrings('~', '0') < 0);
  assert.ok(collateStrings('9', 'a') < 0);
  assert.ok(collateStrings('e', 'é') < 0 && collateStrings('é', 'f') < 0);
});

test('numbers compare by value across integers, floats, JsonFloat and bigint', () => {
  assert.equal(compareNumbers(1, new JsonFloat(1)), 0);
  assert.equal(compareNumbers(2n ** 64n, 2 ** 64), 0);
  assert.equal(compareNumbers(2n ** 64n + 1n, 2 ** 64), 1);
  assert.equal(compareNumbers(2n ** 64n - 1n, 2 ** 64), -1);
  assert.equal(compareNumbers(-(2n ** 70n), -1e300), 1);
  assert.equal(compareNumbers(9007199254740993n, 9007199254740992.5), 1);
  assert.equal(compareNumbers(new JsonFloat(1e300), 10n ** 300n), 1, 'the double nearest 1e300 is just above 10^300');
  assert.equal(compareNumbers(new JsonFloat(-0), 0), 0);
  assert.equal(collateJson(parseJson('[1.0, 2]'), parseJson('[1, 2.0]')), 0);
  assert.deepEqual(sorted([3, 2n ** 60n, -1.5, new JsonFloat(2), 0]), [-1.5, 0, new JsonFloat(2), 3, 2n ** 60n]);
});

test('arrays element-wise then by length; objects member-wise in document order then by size', () => {
  assert.ok(collateJson([1, 2], [1, 3]) < 0);
  assert.ok(collateJson([1, 2], [1, 2, 0]) < 0);
  assert.ok(collateJson([2], [1, 2, 3]) > 0);
  assert.ok(collateJson(['a'], [1]) > 0);
  assert.ok(collateJson({ a: 1 }, { a: 1, b: 0 }) < 0);
  assert.ok(collateJson({ b: 1 }, { a: 2, b: 1 }) > 0, 'first keys decide: "b" > "a"');
  assert.ok(collateJson({ a: 2 }, { a: 10 }) < 0);
  // Document order, not JavaScript order, for index-like keys.
  const ordered = parseJson('{"b":1,"0":2}');
  assert.ok(collateJson(ordered, { a: 1 }) > 0, '"b" is the first key');
});

test('ties: collateJson is CouchDB-equal, compareJson breaks ties by code point', () => {
  assert.equal(collateStrings('a', 'a\u0000'), 0, 'ICU ignores U+0000');
  assert.equal(collateJson('e\u0301', 'é'), 0, 'canonically equivalent');
  assert.ok(compareJson('a', 'a\u0000') < 0);
  assert.ok(compareJson('e\u0301', 'é') < 0, 'U+0065 < U+00E9');
  assert.equal(compareJson(1, new JsonFloat(1)), 0);
  // The tie break never overrides a real difference later in the value.
  assert.ok(compareJson(['a\u0000', 1], ['a', 2]) < 0);
  assert.ok(compareJson({ 'k\u0000': 1 }, { k: 1 }) > 0);
});

test('code point order puts astral characters above the BMP', () => {
  assert.ok(compareCodePoints('\u{1F600}', '\uFFFF') > 0);
  assert.ok(compareCodePoints('\uE000', '\u{10000}') < 0);
  assert.ok(compareCodePoints('ab', 'abc') < 0);
  assert.equal(compareCodePoints('', ''), 0);
});

test('the printable ASCII characters in ICU root order', () => {
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
  const order = sorted(ascii).join('');
  // Punctuation and symbols, then digits, then letters with lowercase first.
  assert.ok(order.endsWith('0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ'), order);
  assert.ok(order.indexOf('~') < order.indexOf('0'));
  assert.equal(order[0], ' ');
});
