import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TermWriter } from './erlang-term.js';
import { JsonFloat, type JsonValue } from './json-value.js';
import { parseJson } from './json-parse.js';

function encode(value: JsonValue): number[] {
  const writer = new TermWriter(8);
  writer.json(value);
  return [...writer.bytes()];
}

test('integers use the smallest Erlang form', () => {
  assert.deepEqual(encode(0), [97, 0]);
  assert.deepEqual(encode(-0), [97, 0]);
  assert.deepEqual(encode(255), [97, 255]);
  assert.deepEqual(encode(256), [98, 0, 0, 1, 0]);
  assert.deepEqual(encode(-1), [98, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(encode(2147483647), [98, 0x7f, 0xff, 0xff, 0xff]);
  assert.deepEqual(encode(-2147483648), [98, 0x80, 0, 0, 0]);
  assert.deepEqual(encode(2147483648), [110, 4, 0, 0, 0, 0, 0x80]);
  assert.deepEqual(encode(-2147483649), [110, 4, 1, 1, 0, 0, 0x80]);
  assert.deepEqual(encode(Number.MAX_SAFE_INTEGER), [110, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]);
  assert.deepEqual(encode(2n ** 64n), [110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(encode(-(2n ** 63n) - 1n), [110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 0x80]);
  assert.deepEqual(encode(5n), [97, 5]);
  const huge = encode(2n ** 2100n);
  assert.deepEqual(huge.slice(0, 6), [111, 0, 0, 1, 7, 0]); // 263 magnitude bytes
  assert.equal(huge.length, 6 + 263);
  assert.equal(huge[huge.length - 1], 0x10);
});

test('floats are NEW_FLOAT_EXT, keeping the sign of zero', () => {
  assert.deepEqual(encode(1.5), [70, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(encode(new JsonFloat(1)), [70, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(encode(new JsonFloat(-0)), [70, 0x80, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => encode(NaN), TypeError);
});

test('atoms, binaries, lists, byte strings and objects', () => {
  assert.deepEqual(encode(null), [100, 0, 4, 110, 117, 108, 108]);
  assert.deepEqual(encode(false), [100, 0, 5, 102, 97, 108, 115, 101]);
  assert.deepEqual(encode('é'), [109, 0, 0, 0, 2, 0xc3, 0xa9]);
  assert.deepEqual(encode('😀'), [109, 0, 0, 0, 4, 0xf0, 0x9f, 0x98, 0x80]);
  assert.deepEqual(encode([]), [106]);
  assert.deepEqual(encode([1, 2, 255]), [107, 0, 3, 1, 2, 255]);
  assert.deepEqual(encode([1, 256]), [108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 0, 106]);
  assert.deepEqual(encode([1, new JsonFloat(2)]).slice(0, 8), [108, 0, 0, 0, 2, 97, 1, 70]);
  assert.deepEqual(encode({}), [104, 1, 106]);
  assert.deepEqual(encode({ a: true }), [104, 1, 108, 0, 0, 0, 1, 104, 2, 109, 0, 0, 0, 1, 97, 100, 0, 4, 116, 114, 117, 101, 106]);
  const bytes = Array.from({ length: 70000 }, () => 1);
  assert.equal(encode(bytes)[0], 108); // too long for a byte string
});

test('long strings take the native UTF-8 path and agree with the short one', () => {
  for (const text of ['a'.repeat(100), 'é'.repeat(70), '😀'.repeat(40), 'x\ud800y'.repeat(30)]) {
    const expected = Buffer.from(text, 'utf8');
    const encoded = encode(text);
    assert.deepEqual(encoded.slice(5), [...expected]);
    const short = new TermWriter();
    short.binaryString(text.slice(0, 30));
    assert.deepEqual([...short.bytes()].slice(5), [...Buffer.from(text.slice(0, 30), 'utf8')]);
  }
});

test('objects follow document order, including index-like keys', () => {
  const keysOf = (bytes: number[]): string[] => {
    const keys: string[] = [];
    for (let i = 0; i + 6 < bytes.length; i++) {
      if (bytes[i] === 104 && bytes[i + 1] === 2 && bytes[i + 2] === 109) {
        const length = bytes[i + 6] as number;
        keys.push(Buffer.from(bytes.slice(i + 7, i + 7 + length)).toString());
      }
    }
    return keys;
  };
  assert.deepEqual(keysOf(encode(parseJson('{"b":1,"10":2,"2":3}'))), ['b', '10', '2']);
  assert.deepEqual(keysOf(encode(parseJson('{"1":1,"b":2,"1":3}'))), ['b', '1']);
});
