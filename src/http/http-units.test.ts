import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUrlEncoding, pathSegments, splitUrl } from './path.js';
import { jsonParam, parseIntegerParam, parseLenientBoolean, parsePositiveIntegerParam, parseStrictBoolean, QueryParams } from './query.js';
import { UuidGenerator } from './uuids.js';
import type { UuidSource } from './uuids.js';

test('path decoding follows CouchDB', () => {
  assert.deepEqual(pathSegments('/'), []);
  assert.deepEqual(pathSegments('//db//doc/'), ['db', 'doc']);
  assert.deepEqual(pathSegments('/plus+sign/a%2Bb'), ['plus sign', 'a+b']);
  assert.deepEqual(pathSegments('/a%2Fb/%C3%A9'), ['a/b', 'é']);
  assert.deepEqual(splitUrl('/db?x=1#frag'), { rawPath: '/db', rawQuery: 'x=1' });
  assert.deepEqual(splitUrl('http://host:5984/db/doc?rev=1'), { rawPath: '/db/doc', rawQuery: 'rev=1' });
  assert.doesNotThrow(() => checkUrlEncoding('/db%25/x?y=%41'));
  assert.throws(() => checkUrlEncoding('/db%2'), /invalid_url_encoding/);
  assert.throws(() => checkUrlEncoding('/db?x=%zz'), /invalid_url_encoding/);
});

test('query parameters and CouchDB parameter styles', () => {
  const query = new QueryParams('startkey=%22a%22&limit=5&limit=7&flag&q=a+b&bad=%FF');
  assert.equal(query.get('limit'), '5');
  assert.equal(query.last('limit'), '7');
  assert.equal(query.get('flag'), '');
  assert.equal(query.get('q'), 'a b');
  assert.equal(jsonParam(query, 'startkey'), 'a');
  assert.equal(jsonParam(query, 'missing'), undefined);
  assert.throws(() => jsonParam(query, 'q'), /invalid UTF-8 JSON/);
  assert.throws(() => jsonParam(query, 'bad'), /invalid UTF-8 JSON/);
  assert.equal(parseStrictBoolean('TRUE'), true);
  assert.equal(parseStrictBoolean('false'), false);
  assert.throws(() => parseStrictBoolean('maybe'), (error: Error & { reason?: string; error?: string }) =>
    error.error === 'query_parse_error' && error.reason === 'Invalid boolean parameter: "maybe"');
  assert.equal(parseLenientBoolean('maybe'), false);
  assert.equal(parseIntegerParam('-3'), -3);
  assert.throws(() => parseIntegerParam('abc'), (error: Error & { reason?: string }) => error.reason === 'Invalid value for integer: "abc"');
  assert.throws(() => parsePositiveIntegerParam('-1'), (error: Error & { reason?: string }) =>
    error.reason === 'Invalid value for positive integer: "-1"');
});

/** A replayable source: a seeded LCG for the random parts. */
function seededSource(seed: number): UuidSource {
  let state = seed >>> 0;
  const nextByte = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
  return {
    randomHex: (bytes) => Array.from({ length: bytes }, () => nextByte().toString(16).padStart(2, '0')).join(''),
    randomStep: (max) => 1 + ((nextByte() << 8) | nextByte()) % max,
    nowMicros: () => 1_000_000,
  };
}

test('sequential uuids: fixed prefix, monotonic suffix, new prefix after rollover', () => {
  const seed = 42;
  const generator = new UuidGenerator({ algorithm: 'sequential', source: seededSource(seed) });
  let previous = generator.next();
  let rollovers = 0;
  for (let index = 0; index < 20_000; index++) {
    const current = generator.next();
    assert.match(current, /^[0-9a-f]{32}$/);
    if (current.slice(0, 26) === previous.slice(0, 26)) {
      assert.ok(current > previous, `seed ${seed}: ${current} after ${previous}`);
      const step = parseInt(current.slice(26), 16) - parseInt(previous.slice(26), 16);
      assert.ok(step >= 1 && step <= 0xffd, `seed ${seed}: step ${step}`);
    } else {
      rollovers += 1;
      assert.ok(parseInt(previous.slice(26), 16) >= 0xfff000, `seed ${seed}: rollover only at the end of the counter`);
    }
    previous = current;
  }
  assert.ok(rollovers >= 1, 'a rollover happened within 20,000 ids');
});

test('other uuid algorithms', () => {
  const source = seededSource(7);
  assert.match(new UuidGenerator({ algorithm: 'random', source }).next(), /^[0-9a-f]{32}$/);
  const utc = new UuidGenerator({ algorithm: 'utc_random', source });
  const first = utc.next();
  const second = utc.next();
  assert.match(first, /^[0-9a-f]{32}$/);
  assert.ok(second.slice(0, 14) > first.slice(0, 14), 'time prefix strictly increases even with a stalled clock');
  assert.equal(new UuidGenerator({ algorithm: 'utc_id', utcIdSuffix: 'node1', source }).next(), '000000000f4240node1');
});
