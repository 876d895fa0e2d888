/**
 * Row order, key ranges, keys queries and offsets over a sorted row array,
 * against the golden CouchDB 3.4.3 answers, plus a seeded property: binary
 * searched ranges select exactly the rows a linear filter would. Replay a
 * failure with `SETTEE_SEED=<seed> node scripts/run-tests.mjs views/query`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';
import { collateJson } from '../core/collation.js';
import { pick, randomJson } from '../core/collation.testkit.js';
import { JsonFloat, type JsonValue } from '../core/json-value.js';
import { crc32, shardOf } from './cluster-offset.js';
import { type ViewParamsInput, validateViewQuery } from './params.js';
import { answerMap, answerReduce } from './query.js';
import { groupAndReduce } from './reduce.js';
import { runBuiltinReduce } from './builtin-reduce.js';
import { type ViewRow, compareBoundIds, compareRows, docIdMax, docIdMin, mergeRows } from './row-order.js';

const row = (key: JsonValue, id: string, value: JsonValue = null, emitIndex = 0): ViewRow => ({ key, id, value, emitIndex });

function input(overrides: Partial<ViewParamsInput> = {}): ViewParamsInput {
  return { keyRangeGiven: false, inclusiveEnd: true, descending: false, skip: 0, includeDocs: false, updateSeq: false, update: 'true', ...overrides };
}

/** The by_name view of the golden scenarios. */
const byName: ViewRow[] = [
  row('apple', 'd1', 3),
  row('banana', 'd2', 1),
  row('carrot', 'd3', 2),
  row('cherry', 'd4', 5),
  row('daikon', 'd5', 2),
];

/** The by_tag view of the golden scenarios. */
const byTag: ViewRow[] = [
  row('orange', 'd3', 'carrot'),
  row('red', 'd1', 'apple'),
  row('red', 'd4', 'cherry'),
  row('sweet', 'd1', 'apple'),
  row('yellow', 'd2', 'banana'),
];

function map(rows: readonly ViewRow[], overrides: Partial<ViewParamsInput>): { offset: number; total: number; ids: string[] } {
  const answer = answerMap(rows, validateViewQuery(input(overrides), { hasReduce: false }));
  return { offset: answer.offset, total: answer.totalRows, ids: [...answer.rows].map((r) => r.id) };
}

test('rows sort by key collation, then by raw id, then emit order', () => {
  const rows = [row('b', 'x'), row('a', 'z'), row('A', 'a'), row('a', 'é'), row('a', 'B'), row(1, 'k'), row(new JsonFloat(1), 'k'), row(1, 'k', null, 1)];
  const sorted = [...rows].sort(compareRows);
  assert.deepEqual(
    sorted.map((r) => [r.key instanceof JsonFloat ? '1.0' : r.key, r.id, r.emitIndex]),
    [
      [1, 'k', 0], // 1 and 1.0 are one number: emit order decides
      ['1.0', 'k', 0],
      [1, 'k', 1],
      ['a', 'B', 0], // raw order: 'B' < 'z' < 'é'
      ['a', 'z', 0],
      ['a', 'é', 0],
      ['A', 'a', 0],
      ['b', 'x', 0],
    ],
  );
  assert.equal(compareBoundIds(docIdMin, 'a') < 0, true);
  assert.equal(compareBoundIds('\u{10FFFF}', docIdMax) < 0, true);
  assert.deepEqual(mergeRows(sorted.slice(0, 3), sorted.slice(3)), sorted);
});

test('golden key ranges (view_key_ranges, view_collation)', () => {
  assert.deepEqual(map(byName, { startKey: 'banana', endKey: 'banana' }), { offset: 1, total: 5, ids: ['d2'] });
  assert.deepEqual(map(byName, { startKey: 'b', endKey: 'd' }), { offset: 1, total: 5, ids: ['d2', 'd3', 'd4'] });
  assert.deepEqual(map(byName, { startKey: 'b', endKey: 'cherry', inclusiveEnd: false }).ids, ['d2', 'd3']);
  assert.deepEqual(map(byName, { descending: true, startKey: 'cherry', endKey: 'b' }), { offset: 1, total: 5, ids: ['d4', 'd3', 'd2'] });
  assert.deepEqual(map(byName, { startKey: 'c', endKey: 'c\ufff0' }), { offset: 2, total: 5, ids: ['d3', 'd4'] });
  // document-id bounds are raw strings: `"d2"` (with quotes) sorts before every `d…`
  assert.deepEqual(map(byTag, { startKey: 'red', endKey: 'red', startDocId: '"d2"' }), { offset: 1, total: 5, ids: ['d1', 'd4'] });
  assert.deepEqual(map(byTag, { startKey: 'red', endKey: 'red', endDocId: '"d2"' }), { offset: 1, total: 5, ids: [] });
  assert.deepEqual(map(byTag, { startKey: 'red', endKey: 'red', startDocId: 'd2' }).ids, ['d4']);
  assert.deepEqual(map(byTag, { startKey: 'red', endKey: 'red', endDocId: 'd2' }).ids, ['d1']);
  // an empty range reports where it would be
  assert.deepEqual(map(byName, { startKey: 'b', endKey: 'b' }), { offset: 1, total: 5, ids: [] });
});

test('skip and limit, and the offset they report', () => {
  assert.deepEqual(map(byName, { limit: 2 }), { offset: 0, total: 5, ids: ['d1', 'd2'] });
  assert.deepEqual(map(byName, { limit: 2, skip: 2 }), { offset: 2, total: 5, ids: ['d3', 'd4'] });
  assert.deepEqual(map(byName, { descending: true, limit: 2 }), { offset: 0, total: 5, ids: ['d5', 'd4'] });
  assert.deepEqual(map(byName, { skip: 99 }), { offset: 5, total: 5, ids: [] });
  assert.deepEqual(map(byName, { limit: 0 }).ids, []);
});

test('keys queries: rows per key in request order, the sharded offset CouchDB reports', () => {
  assert.equal(crc32('d1'), 0x1196bc66);
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.deepEqual(['d1', 'd2', 'd3', 'd4', 'd5'].map(shardOf), [0, 1, 1, 0, 0]);
  assert.deepEqual(map(byName, { keys: ['daikon', 'nope', 'apple'] }), { offset: 2, total: 5, ids: ['d5', 'd1'] });
  assert.deepEqual(map(byName, { keys: ['daikon', 'apple', 'apple'] }), { offset: 2, total: 5, ids: ['d5', 'd1', 'd1'] });
  assert.deepEqual(map(byName, { keys: ['apple', 'daikon'], descending: true }).ids, ['d5', 'd1']);
  assert.deepEqual(map(byName, { keys: [] }), { offset: 0, total: 5, ids: [] });
});

test('reduce queries: grouping levels, keys, skip and limit', () => {
  const rows: ViewRow[] = [
    row([2024, 1, 15], 'd1', 3),
    row([2024, 1, 20], 'd2', 1),
    row([2024, 2, 1], 'd3', 2),
    row([2024, 2, 14], 'd4', 5),
    row([2025, 1, 1], 'd5', 2),
  ];
  const sum = (group: readonly ViewRow[]): JsonValue => runBuiltinReduce('sum', group);
  const reduce = (overrides: Partial<ViewParamsInput>): unknown[] =>
    [...answerReduce(rows, validateViewQuery(input(overrides), { hasReduce: true }), sum)].map((r) => [r.key, r.value]);
  assert.deepEqual(reduce({}), [[null, 13]]);
  assert.deepEqual(reduce({ groupLevel: 1 }), [[[2024], 11], [[2025], 2]]);
  assert.deepEqual(reduce({ groupLevel: 2 }), [[[2024, 1], 4], [[2024, 2], 7], [[2025, 1], 2]]);
  assert.deepEqual(reduce({ group: true, groupLevel: 1, descending: true }), [[[2025], 2], [[2024], 11]]);
  assert.deepEqual(reduce({ groupLevel: 9, limit: 2, skip: 1 }), [[[2024, 1, 20], 1], [[2024, 2, 1], 2]]);
  assert.deepEqual(reduce({ group: true, keys: [[2025, 1, 1], [1], [2024, 1, 15]] }), [[[2025, 1, 1], 2], [[2024, 1, 15], 3]]);
  assert.deepEqual(reduce({ startKey: [2024, 2], endKey: [2025] }), [[null, 7]]);
  assert.deepEqual(reduce({ startKey: [3000] }), []);
  // `1` and `1.0` are one group (Erlang `==`); strings that ICU calls equal but differ are two
  const mixed = [row(1, 'a', 1), row(new JsonFloat(1), 'b', 1), row('a', 'c', 1), row('a\u0000', 'd', 1)].sort(compareRows);
  assert.deepEqual([...groupAndReduce(mixed, 'exact', sum)].map((r) => r.value), [2, 1, 1]);
});

test('property: binary-searched ranges select what a linear filter selects', () => {
  const seed = seedFromEnv();
  for (let index = 0; index < 300; index++) {
    const random = createPrng((seed + index * 7919) >>> 0);
    const ids = ['a', 'b', 'B', 'é', 'a1', ''];
    const rows = Array.from({ length: Math.floor(random() * 30) }, (_, i) => row(randomJson(random, 1), pick(random, ids), i)).sort(compareRows);
    const startKey = randomJson(random, 1);
    const endKey = randomJson(random, 1);
    const descending = random() < 0.5;
    const inclusiveEnd = random() < 0.5;
    let query;
    try {
      query = validateViewQuery(input({ startKey, endKey, descending, inclusiveEnd }), { hasReduce: false });
    } catch {
      continue; // a reversed range
    }
    const inRange = (r: ViewRow): boolean => {
      const fromStart = collateJson(r.key, startKey);
      const toEnd = collateJson(r.key, endKey);
      const afterStart = descending ? fromStart <= 0 : fromStart >= 0;
      const beforeEnd = descending ? (inclusiveEnd ? toEnd >= 0 : toEnd > 0) : inclusiveEnd ? toEnd <= 0 : toEnd < 0;
      return afterStart && beforeEnd;
    };
    const expected = (descending ? [...rows].reverse() : rows).filter(inRange);
    const got = [...answerMap(rows, query).rows];
    assert.deepEqual(got, expected, `case ${index}; replay with SETTEE_SEED=${seed}`);
  }
});
