import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, parseStrict } from './json-parse.js';
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';
import { orderedKeys } from './json-order.js';
import { CouchError } from './errors.js';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';

function assertInvalid(text: string, options?: { depthMax?: number }): void {
  assert.throws(
    () => parseJson(text, options),
    (error: unknown) => error instanceof CouchError && error.status === 400 && error.reason === 'invalid UTF-8 JSON',
    `expected ${JSON.stringify(text.slice(0, 80))} to be rejected`,
  );
  assert.throws(() => parseStrict(text, options?.depthMax), CouchError, `strict parser accepted ${JSON.stringify(text.slice(0, 80))}`);
}

test('syntax errors are 400 invalid UTF-8 JSON', () => {
  for (const text of [
    '', ' ', '{"a":', '{"a":1}x', '{"a":1}}', "{'a':1}", '{"a":NaN}', '{"a":Infinity}', '{"a":1,}', '[1,]', '[,1]',
    '{"a":01}', '{"a":-01}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":1e+}', '{"a":+1}', '{"a":-}',
    '{"a":"\\ud800"}', '{"a":"\\udc00"}', '{"a":"\\ud800\\u0041"}', '{"a":"\\ud800x"}', '{"a":"x\\udfff"}',
    '{"a":"\t"}', '{"a":"\n"}', '{"a":"\u001f"}', '{"a":"\\x"}', '{"a":"\\u12g4"}', '{"a":"abc', '"\\',
    '{"a":1e400}', '{"a":-1e400}', '{"a":1.5e400}', '{a:1}', '{"a" 1}', '{"a":1 "b":2}', 'tru', 'nul', 'True',
    '{"a":"\ud800"}', '\u00a0{}', '{"a":1}\u0000', '[1 2]', '{"a":[}', '{"docs":[{]}',
  ]) {
    assertInvalid(text);
  }
});

test('surrounding whitespace and top-level scalars are accepted', () => {
  assert.deepEqual(parseJson('  {"a":1}  \n'), { a: 1 });
  assert.deepEqual(parseJson('\t[1 , 2 ]\r\n'), [1, 2]);
  assert.equal(parseJson('"x"'), 'x');
  assert.equal(parseJson('null'), null);
  assert.equal(parseJson(' 7 '), 7);
});

test('nesting deeper than depthMax is rejected', () => {
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
  assert.doesNotThrow(() => parseJson(nested(512)));
  assertInvalid(nested(513));
  assertInvalid('{"a":' + nested(4) + '}', { depthMax: 4 });
  assert.doesNotThrow(() => parseJson('{"a":' + nested(3) + '}', { depthMax: 4 }));
  assertInvalid(nested(100_000), { depthMax: 1_000_000 });
});

test('integers: exact, bigint beyond 2^53, -0 is 0', () => {
  assert.equal(parseJson('9007199254740991'), 9007199254740991);
  assert.equal(parseJson('-9007199254740991'), -9007199254740991);
  assert.equal(parseJson('9007199254740993'), 9007199254740993n);
  assert.equal(parseJson('18446744073709551616'), 18446744073709551616n);
  assert.equal(parseJson('-9223372036854775809'), -9223372036854775809n);
  assert.equal(parseJson('123456789012345678901234567890'), 123456789012345678901234567890n);
  assert.ok(Object.is(parseJson('-0'), 0));
  assert.ok(Object.is((parseJson('{"a":-0}') as JsonObject).a, 0));
  assert.equal(parseJson('1234567890123456'), 1234567890123456);
});

test('floats: integral values are JsonFloat, others plain numbers', () => {
  const float = (text: string): JsonValue => (parseJson(`{"x":${text}}`) as JsonObject).x as JsonValue;
  assert.deepEqual(float('1.0'), new JsonFloat(1));
  assert.deepEqual(float('1e3'), new JsonFloat(1000));
  assert.deepEqual(float('1E3'), new JsonFloat(1000));
  assert.deepEqual(float('1e+2'), new JsonFloat(100));
  assert.deepEqual(float('1.5e300'), new JsonFloat(1.5e300));
  assert.deepEqual(float('0.0'), new JsonFloat(0));
  assert.ok(Object.is((float('-0.0') as JsonFloat).value, -0));
  assert.equal(float('1.5'), 1.5);
  assert.equal(float('-2.25'), -2.25);
  assert.equal(float('1e-7'), 1e-7);
  assert.equal(float('1E-3'), 0.001);
  assert.equal(float('3.141592653589793238462643383279'), 3.141592653589793);
  assert.deepEqual(float('123456789012345678901234567890.5'), new JsonFloat(1.2345678901234568e29));
});

test('subnormals and underflow follow jiffy (strtod ERANGE fallback)', () => {
  const float = (text: string): JsonValue => (parseJson(`[${text}]`) as JsonValue[])[0] as JsonValue;
  // exponent-only lexemes become Int * 10^Exp: 5 * 0.0
  assert.deepEqual(float('5e-324'), new JsonFloat(0));
  assert.ok(Object.is((float('-5e-324') as JsonFloat).value, -0));
  assert.equal(float('1e-320'), 1e-320);
  assert.deepEqual(float('1e-400'), new JsonFloat(0));
  // with a fraction, Erlang's list_to_float: correctly rounded, underflow to 0.0
  assert.equal(float('4.9e-324'), 5e-324);
  assert.deepEqual(float('1.0e-400'), new JsonFloat(0));
  assert.equal(float('2.2250738585072014e-308'), 2.2250738585072014e-308);
  // long exponent-only lexemes skip strtod as well
  assert.deepEqual(float('1000000000000000000000000000000e-30'), new JsonFloat(1));
  assertInvalid('[1e309]');
  assertInvalid('[100000000000000000000000000000000e300]');
});

test('duplicate keys: last value at the last position, at every depth', () => {
  const doc = parseJson('{"a":1,"b":2,"a":3}') as JsonObject;
  assert.deepEqual(Object.keys(doc), ['b', 'a']);
  assert.equal(doc.a, 3);
  const nested = parseJson('{"x":[{"k":1,"j":0,"k":{"z":1,"y":2,"z":3}}]}') as { x: [{ k: JsonObject }] };
  assert.deepEqual(Object.keys(nested.x[0]), ['j', 'k']);
  assert.deepEqual(Object.keys(nested.x[0].k), ['y', 'z']);
  assert.deepEqual(parseJson('{"a":1,"a":1}'), { a: 1 });
});

test('__proto__ is an own data property', () => {
  const doc = parseJson('{"__proto__":{"polluted":1},"a":2}') as JsonObject;
  assert.ok(Object.prototype.hasOwnProperty.call(doc, '__proto__'));
  assert.equal(Object.getPrototypeOf(doc), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const strict = parseStrict('{"a":0,"__proto__":{"polluted":1},"__proto__":2}') as JsonObject;
  assert.deepEqual(Object.keys(strict), ['a', '__proto__']);
  assert.equal(strict['__proto__'], 2);
});

test('index-like keys keep document order', () => {
  assert.deepEqual(orderedKeys(parseJson('{"b":1,"10":2,"2":3,"a":4}') as JsonObject), ['b', '10', '2', 'a']);
  assert.deepEqual(orderedKeys(parseJson('{"0":1,"1":2,"b":3}') as JsonObject), ['0', '1', 'b']);
  assert.deepEqual(orderedKeys(parseJson('{"4294967295":1,"1":2}') as JsonObject), ['4294967295', '1']);
});

test('escapes decode; strings equal JSON.parse', () => {
  const text = '["\\n\\t\\"\\\\\\/\\b\\f\\r","\\u00e9\\u4E2D","\\ud83d\\ude00","a\\u0000b","\u2028","\\\\ud800"]';
  assert.deepEqual(parseJson(text), JSON.parse(text));
  assert.deepEqual(parseStrict(text), JSON.parse(text));
});

test('the fast path and the strict parser agree on ordinary documents', () => {
  const doc = {
    _id: 'order:1', type: 'order', total: 12.99, items: [{ sku: 'a-1', qty: 2, price: 3.5 }],
    customer: { name: 'Zoë', tags: ['vip', 'new'], address: null }, paid: true, note: 'say "hi"\\ok',
    created: 1700000000000,
  };
  const text = JSON.stringify(doc);
  assert.deepEqual(parseJson(text), doc);
  assert.deepEqual(parseStrict(text), doc);
});

/** Random plain JSON (what JSON.stringify can produce and JSON.parse reads back). */
function randomPlain(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  const alphabet = ['a', 'b', 'é', '中', '😀', '"', '\\', '\n', '\u0001', '0', '1', '_', ' ', '\u2028'];
  const randomString = (): string => {
    let s = '';
    const length = Math.floor(next() * 6);
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    return s;
  };
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return Math.floor((next() - 0.5) * 2 ** (next() * 60)) ;
    case 3: return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    case 4: return randomString();
    case 5: return Array.from({ length: Math.floor(next() * 4) }, () => randomPlain(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      const count = Math.floor(next() * 5);
      for (let i = 0; i < count; i++) object[randomString()] = randomPlain(next, depth + 1);
      return object;
    }
  }
}

test('property: parseJson agrees with JSON.parse on JSON.stringify output', () => {
  const seed = seedFromEnv();
  const next = createPrng(seed);
  for (let run = 0; run < 2000; run++) {
    const text = JSON.stringify(randomPlain(next, 0));
    const expected = JSON.parse(text) as unknown;
    const actual = parseJson(text);
    // A float that happens to be integral prints as an integer; only bigints differ.
    const normalised = JSON.parse(JSON.stringify(actual, (_k, v: unknown) =>
      typeof v === 'bigint' ? Number(v) : v instanceof JsonFloat ? v.value : v,
    ));
    assert.deepEqual(normalised, JSON.parse(JSON.stringify(expected)), `seed ${seed}, run ${run}: ${text}`);
    assert.deepEqual(parseStrict(text), actual, `seed ${seed}, run ${run}: strict vs fast on ${text}`);
  }
});
