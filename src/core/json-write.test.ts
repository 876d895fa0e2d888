import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatNumber, stringifyJson } from './json-write.js';
import { parseJson } from './json-parse.js';
import { JsonFloat, type JsonValue } from './json-value.js';
import { setKeyOrder } from './json-order.js';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';

const roundTrip = (text: string): string => stringifyJson(parseJson(text));

test('numbers are written as CouchDB 3.4 returns them', () => {
  const cases: [string, string][] = [
    ['1.0', '1.0'], ['1e3', '1000.0'], ['1E3', '1000.0'], ['1e+2', '100.0'], ['1e-7', '1e-7'],
    ['1.5e300', '1.5e+300'], ['-0.0', '0.0'], ['-0', '0'], ['0', '0'], ['5e-324', '0.0'], ['1e-320', '1e-320'],
    ['123456789012345678901234567890.5', '1.2345678901234568e+29'],
    ['3.141592653589793238462643383279', '3.141592653589793'], ['9007199254740993', '9007199254740993'],
    ['18446744073709551616', '18446744073709551616'], ['-9223372036854775809', '-9223372036854775809'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['1E-3', '0.001'], ['0.000001', '0.000001'], ['0.0000001', '1e-7'], ['1e20', '100000000000000000000.0'],
    ['1e21', '1e+21'], ['-2.25', '-2.25'], ['7e0', '7.0'], ['100.0', '100.0'], ['0.5', '0.5'], ['1.5e-10', '1.5e-10'],
    ['2147483648', '2147483648'], ['-2147483649', '-2147483649'], ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(roundTrip(`[${input}]`), `[${expected}]`, input);
    assert.equal(roundTrip(`{"n":${input}}`), `{"n":${expected}}`, input);
  }
});

test('formatFloat and formatNumber', () => {
  assert.equal(formatFloat(1), '1.0');
  assert.equal(formatFloat(-0), '0.0');
  assert.equal(formatFloat(1e21), '1e+21');
  assert.equal(formatFloat(-1e-7), '-1e-7');
  assert.equal(formatNumber(1e21), '1000000000000000000000');
  assert.equal(formatNumber(-1e21), '-1000000000000000000000');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(1.5), '1.5');
  assert.equal(stringifyJson([1e21, 2 ** 70]), '[1000000000000000000000,1180591620717411303424]');
  assert.equal(stringifyJson([new JsonFloat(2 ** 70)]), '[1.1805916207174113e+21]');
});

test('strings: UTF-8 as is, control characters with uppercase hex', () => {
  assert.equal(stringifyJson('é中😀\u2028\u2029/\u007f'), '"é中😀\u2028\u2029/\u007f"');
  assert.equal(stringifyJson('\n\t"\\\b\f\r'), '"\\n\\t\\"\\\\\\b\\f\\r"');
  assert.equal(stringifyJson('\u0000\u0001\u000b\u000e\u000f\u001a\u001f'), '"\\u0000\\u0001\\u000B\\u000E\\u000F\\u001A\\u001F"');
  assert.equal(stringifyJson({ '\u001f': '\\u001f' }), '{"\\u001F":"\\\\u001f"}');
  assert.equal(stringifyJson(['\\\u001b', 1n]), '["\\\\\\u001B",1]');
});

test('objects keep document order, duplicates collapsed', () => {
  assert.equal(roundTrip('{"a":1,"b":2,"a":3}'), '{"b":2,"a":3}');
  assert.equal(roundTrip('{"x":{"a":1,"b":2,"a":3}}'), '{"x":{"b":2,"a":3}}');
  assert.equal(roundTrip('{"b":1,"10":2,"2":3}'), '{"b":1,"10":2,"2":3}');
  assert.equal(roundTrip(' { "a" : [ 1 , { } , [ ] ] } '), '{"a":[1,{},[]]}');
  const object = { b: 1, 1: 2 };
  setKeyOrder(object, ['b', '1']);
  assert.equal(stringifyJson(object), '{"b":1,"1":2}');
  assert.equal(stringifyJson({ a: undefined, b: [undefined] } as unknown as JsonValue), '{"b":[null]}');
  assert.equal(stringifyJson(parseJson('{"__proto__":1}')), '{"__proto__":1}');
});

/** Random JSON text with CouchDB's number variety, index-like and duplicate keys. */
function randomText(next: () => number, depth: number): string {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  const alphabet = ['a', 'b', 'é', '中', '😀', '\\"', '\\\\', '\\n', '\\u0001', '\\u001f', '0', '1', '_', '\\ud83d\\ude00'];
  const numbers = ['0', '-0', '1', '-1', '255', '256', '2147483648', '9007199254740993', '1.0', '-0.0', '1e3', '1E-7',
    '0.5', '1.5e300', '123456789012345678901234567890', '3.14159', '5e-324', '1e21', '12.5e-3'];
  const randomString = (): string => {
    let s = '';
    const length = Math.floor(next() * 5);
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    return `"${s}"`;
  };
  switch (pick) {
    case 0: return ['null', 'true', 'false'][Math.floor(next() * 3)] as string;
    case 1:
    case 2: return numbers[Math.floor(next() * numbers.length)] as string;
    case 3: return String(Math.floor((next() - 0.5) * 1e6) / 64);
    case 4: return randomString();
    case 5: return `[${Array.from({ length: Math.floor(next() * 4) }, () => randomText(next, depth + 1)).join(',')}]`;
    default: {
      const keys = ['"a"', '"b"', '"0"', '"7"', '"10"', randomString(), randomString()];
      const count = Math.floor(next() * 6);
      const members = Array.from({ length: count }, () => `${keys[Math.floor(next() * keys.length)]}:${randomText(next, depth + 1)}`);
      return `{${members.join(',')}}`;
    }
  }
}

test('property: stringifyJson(parseJson(stringifyJson(v))) is stable', () => {
  const seed = seedFromEnv();
  const next = createPrng(seed);
  for (let run = 0; run < 3000; run++) {
    const text = randomText(next, 0);
    const once = stringifyJson(parseJson(text));
    const twice = stringifyJson(parseJson(once));
    assert.equal(twice, once, `seed ${seed}, run ${run}: ${text}`);
    assert.doesNotThrow(() => JSON.parse(once), `seed ${seed}, run ${run}: invalid output ${once}`);
  }
});
