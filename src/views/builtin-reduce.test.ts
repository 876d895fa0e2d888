/** The builtin reduces with Erlang arithmetic, checked through the JSON CouchDB would write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCouchError } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonValue } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import { type BuiltinReduce, builtinReduceOf, runBuiltinReduce, sumErrorReason } from './builtin-reduce.js';

/** Reduces values given as JSON text (so `1.0` stays a float) and answers JSON text. */
function reduce(builtin: BuiltinReduce, valuesJson: string, keysJson?: string): string {
  const values = parseJson(valuesJson) as JsonValue[];
  const keys = keysJson === undefined ? values.map(() => null) : (parseJson(keysJson) as JsonValue[]);
  return stringifyJson(runBuiltinReduce(builtin, values.map((value, i) => ({ key: keys[i] as JsonValue, value }))));
}

test('builtins are matched by prefix, JavaScript is not a builtin', () => {
  assert.equal(builtinReduceOf('_sum'), 'sum');
  assert.equal(builtinReduceOf('_count'), 'count');
  assert.equal(builtinReduceOf('_stats_whatever'), 'stats');
  assert.equal(builtinReduceOf('_approx_count_distinct'), 'approx_count_distinct');
  assert.equal(builtinReduceOf('function(k, v) { return sum(v); }'), undefined);
});

test('_sum keeps integers exact and makes anything with a float a float', () => {
  assert.equal(reduce('sum', '[3,1,5,2,2]'), '13');
  assert.equal(reduce('sum', '[0.5,0.5,1]'), '2.0');
  assert.equal(reduce('sum', '[0.5,0.5]'), '1.0');
  assert.equal(reduce('sum', '[1.0]'), '1.0');
  assert.equal(reduce('sum', '[9007199254740991,9007199254740991,18446744073709551616]'), String(2n ** 64n + 2n * 9007199254740991n));
  assert.equal(reduce('sum', '[-1,1]'), '0');
  assert.equal(reduce('sum', '[]'), '0');
});

test('_sum adds arrays element-wise and objects member-wise', () => {
  assert.equal(reduce('sum', '[[1,2],[3,4,5],1]'), '[5,6,5]');
  assert.equal(reduce('sum', '[{"b":1,"a":2},{"a":1.5,"c":{"x":1}},{"c":{"x":2}}]'), '{"a":3.5,"b":1,"c":{"x":3}}');
  assert.equal(reduce('sum', '[{"b":1,"a":2}]'), '{"b":1,"a":2}');
});

test('_sum of what cannot be added is an error row value, not a failed request', () => {
  const error = (cause: string): string => `{"error":"builtin_reduce_error","reason":${JSON.stringify(sumErrorReason)},"caused_by":${cause}}`;
  assert.equal(reduce('sum', '["x","x"]'), error('"x"'));
  assert.equal(reduce('sum', '[1,{"a":1}]'), error('{"a":1}'));
  // CouchDB names the running total's rest here, not the value (`sum_arrays(Else, _)`)
  assert.equal(reduce('sum', '[["a"],[1]]'), error('[0]'));
  assert.equal(reduce('sum', '[[1],["a"]]'), error('[1]'));
  assert.equal(reduce('sum', '[1,null]'), error('null'));
  // an earlier error travels on (rereduce of an error)
  assert.equal(reduce('sum', `[1,${error('"x"')}]`), error('"x"'));
});

test('_count and _approx_count_distinct', () => {
  assert.equal(reduce('count', '[1,"x",null]'), '3');
  assert.equal(reduce('approx_count_distinct', '[0,0,0,0]', '["a","b","a",1]'), '3');
  assert.equal(reduce('approx_count_distinct', '[0,0]', '[1,1.0]'), '2');
});

test('_stats: numbers, arrays of numbers, pre-reduced stats', () => {
  assert.equal(reduce('stats', '[3,1,5,2,2]'), '{"sum":13,"count":5,"min":1,"max":5,"sumsqr":43}');
  assert.equal(reduce('stats', '[1.5,2]'), '{"sum":3.5,"count":2,"min":1.5,"max":2,"sumsqr":6.25}');
  assert.equal(reduce('stats', '[[1,2],[3,4]]'), '[{"sum":4,"count":2,"min":1,"max":3,"sumsqr":10},{"sum":6,"count":2,"min":2,"max":4,"sumsqr":20}]');
  assert.equal(reduce('stats', '[{"sum":4,"count":2,"min":1,"max":3,"sumsqr":10},5]'), '{"sum":9,"count":3,"min":1,"max":5,"sumsqr":35}');
  for (const bad of ['["x"]', '[1,"x"]', '[{"sum":1}]']) {
    try {
      reduce('stats', bad);
      assert.fail(`${bad} should fail`);
    } catch (error) {
      assert.ok(isCouchError(error) && error.status === 500 && error.error === 'invalid_value', String(error));
    }
  }
});
