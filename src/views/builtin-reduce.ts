/**
 * CouchDB's builtin reduce functions, computed natively: `_sum`, `_count`,
 * `_stats` and `_approx_count_distinct` (matched by prefix, as CouchDB
 * matches them).
 *
 * Arithmetic is Erlang's, because CouchDB computes these in Erlang: integers
 * are exact and stay integers (`1 + 2` is `3`, of any size), anything with a
 * float is a float (`0.5 + 0.5` is `1.0`, written `1.0`). A Settee JSON
 * number already says which it is: an integral `number` or a `bigint` is an
 * integer, a `JsonFloat` or a non-integral `number` a float.
 *
 * - `_sum` adds numbers, arrays of numbers element-wise (the shorter one
 *   padded) and objects member-wise (members sorted by name); a value it
 *   cannot add makes the reduction CouchDB's error object
 *   `{"error":"builtin_reduce_error","reason":…,"caused_by":value}` (a 200
 *   row, not a failed request).
 * - `_stats` gives `{sum,count,min,max,sumsqr}` (element-wise for arrays; an
 *   object that already is such a record is merged in); a value it cannot use
 *   fails the request with 500 `invalid_value`, as in CouchDB.
 * - `_approx_count_distinct` counts distinct keys exactly (CouchDB's
 *   HyperLogLog estimate is exact at the sizes where it matters for tests and
 *   close elsewhere; this is the bound of "approximate").
 */
import { internalError } from '../core/errors.js';
import { JsonFloat, isJsonNumber, isJsonObject, numericValue, type JsonObject, type JsonValue } from '../core/json-value.js';
import { orderedKeys, setKeyOrder } from '../core/json-order.js';
import { compareCodePoints } from '../core/collation.js';
import { stringifyJson } from '../core/json-write.js';
import { erlangTermText, isErlangInteger } from '../query/erlang-text.js';

export type BuiltinReduce = 'sum' | 'count' | 'stats' | 'approx_count_distinct';

const builtinPrefixes: readonly BuiltinReduce[] = ['sum', 'count', 'stats', 'approx_count_distinct'];

/** The builtin a reduce source names (`_sum`, `_count…`), or undefined for JavaScript. */
export function builtinReduceOf(source: string): BuiltinReduce | undefined {
  if (!source.startsWith('_')) return undefined;
  return builtinPrefixes.find((name) => source.startsWith(`_${name}`));
}

/** One row as a builtin sees it. */
export interface ReduceInput {
  readonly key: JsonValue;
  readonly value: JsonValue;
}

export function runBuiltinReduce(builtin: BuiltinReduce, rows: readonly ReduceInput[]): JsonValue {
  switch (builtin) {
    case 'count':
      return rows.length;
    case 'sum':
      return sumRows(rows);
    case 'stats':
      return statsRows(rows);
    case 'approx_count_distinct':
      return new Set(rows.map((row) => stringifyJson(row.key))).size;
  }
}

// ---- Erlang arithmetic on JSON numbers ----

type JsonNumber = number | bigint | JsonFloat;

function isInteger(value: JsonNumber): value is number | bigint {
  return isErlangInteger(value);
}

/** A float result as Settee writes floats (`2.0`, not `2`). */
function float(value: number): JsonNumber {
  return Number.isInteger(value) ? new JsonFloat(value) : value;
}

/** An integer result: a plain number while exact, else a bigint. */
function integer(value: bigint): JsonNumber {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

export function addNumbers(a: JsonNumber, b: JsonNumber): JsonNumber {
  if (isInteger(a) && isInteger(b)) {
    if (typeof a === 'number' && typeof b === 'number') {
      const sum = a + b;
      if (Number.isSafeInteger(sum)) return sum;
    }
    return integer(BigInt(a) + BigInt(b));
  }
  return float(numericValue(a) + numericValue(b));
}

function multiplyNumbers(a: JsonNumber, b: JsonNumber): JsonNumber {
  if (isInteger(a) && isInteger(b)) {
    if (typeof a === 'number' && typeof b === 'number') {
      const product = a * b;
      if (Number.isSafeInteger(product)) return product;
    }
    return integer(BigInt(a) * BigInt(b));
  }
  return float(numericValue(a) * numericValue(b));
}

/** Arithmetic comparison (`1 == 1.0`); bigints exactly. */
function compareNumbers(a: JsonNumber, b: JsonNumber): number {
  if (isInteger(a) && isInteger(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = numericValue(a);
  const y = numericValue(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- _sum ----

export const sumErrorReason =
  'The _sum function requires that map values be numbers, arrays of numbers, or objects. ' +
  'Objects cannot be mixed with other data structures. Objects can be arbitrarily nested, ' +
  'provided that the values for all fields are themselves numbers, arrays of numbers, or objects.';

/** A value `_sum` cannot add (the error object names it as `caused_by`). */
class SumError {
  constructor(readonly cause: JsonValue) {}
}

/** A row value that is itself an earlier `builtin_reduce_error`: the reduction becomes it. */
class CarriedError {
  constructor(readonly error: JsonObject) {}
}

function sumRows(rows: readonly ReduceInput[]): JsonValue {
  let total: JsonValue = 0;
  try {
    for (const row of rows) total = sumValues(row.value, total);
  } catch (error) {
    if (error instanceof SumError) return { error: 'builtin_reduce_error', reason: sumErrorReason, caused_by: error.cause };
    if (error instanceof CarriedError) return error.error;
    throw error;
  }
  return total;
}

/** Adds `value` to the running total `acc`, as CouchDB's `sum_values`. */
function sumValues(value: JsonValue, acc: JsonValue): JsonValue {
  if (isJsonNumber(value) && isJsonNumber(acc)) return addNumbers(acc, value);
  if (Array.isArray(value) && Array.isArray(acc)) return sumArrays(acc, value);
  if (isJsonNumber(value) && Array.isArray(acc)) return sumArrays(acc, [value]);
  if (Array.isArray(value) && isJsonNumber(acc)) return sumArrays([acc], value);
  if (isJsonObject(value)) {
    if (value['error'] === 'builtin_reduce_error') throw new CarriedError(value);
    if (acc === 0) return value;
    if (isJsonObject(acc)) return sumObjects(value, acc);
  }
  throw new SumError(value);
}

function sumArrays(acc: readonly JsonValue[], values: readonly JsonValue[]): JsonValue[] {
  const result: JsonValue[] = [];
  const length = Math.min(acc.length, values.length);
  for (let i = 0; i < length; i++) {
    const x = acc[i] as JsonValue;
    const y = values[i] as JsonValue;
    if (!isJsonNumber(x) || !isJsonNumber(y)) throw new SumError(acc.slice(i));
    result.push(addNumbers(x, y));
  }
  return result.concat(acc.length > length ? acc.slice(length) : values.slice(length));
}

/** Member-wise sum; members come out sorted by name (byte order), as CouchDB sorts them. */
function sumObjects(value: JsonObject, acc: JsonObject): JsonObject {
  const keys = [...new Set([...orderedKeys(value), ...orderedKeys(acc)])].sort(compareCodePoints);
  const result: JsonObject = {};
  for (const key of keys) {
    const x = value[key];
    const y = acc[key];
    result[key] = x !== undefined && y !== undefined ? sumValues(x, y) : ((x ?? y) as JsonValue);
  }
  setKeyOrder(result, keys);
  return result;
}

// ---- _stats ----

interface Stats {
  readonly sum: JsonNumber;
  readonly count: JsonNumber;
  readonly min: JsonNumber;
  readonly max: JsonNumber;
  readonly sumsqr: JsonNumber;
}

type StatsAcc = Stats | readonly StatsAcc[];

const statsFields = ['sum', 'count', 'min', 'max', 'sumsqr'] as const;

function invalidStats(message: string): Error {
  return internalError('invalid_value', message);
}

function statsError(value: JsonValue): Error {
  return invalidStats(`The _stats function requires that map values be numbers or arrays of numbers, not '${erlangTermText(value)}'`);
}

function statsRows(rows: readonly ReduceInput[]): JsonValue {
  const [first, ...rest] = rows;
  if (first === undefined) return packStats({ sum: 0, count: 0, min: 0, max: 0, sumsqr: 0 });
  let acc = initialStats(first.value);
  for (const row of rest) acc = addStats(row.value, acc);
  return packStats(acc);
}

function singleStats(value: JsonNumber): Stats {
  return { sum: value, count: 1, min: value, max: value, sumsqr: multiplyNumbers(value, value) };
}

function initialStats(value: JsonValue): StatsAcc {
  if (Array.isArray(value)) return value.map(initialStats);
  if (isJsonNumber(value)) return singleStats(value);
  if (isJsonObject(value)) return unpackStats(value);
  throw invalidStats(`non-numeric _stats input: ${erlangTermText(value)}`);
}

/** A `{sum,count,min,max,sumsqr}` object given as a value (pre-reduced stats). */
function unpackStats(object: JsonObject): Stats {
  const field = (name: (typeof statsFields)[number]): JsonNumber => {
    const value = object[name];
    if (value === undefined) throw invalidStats(`user _stats input missing required field ${name} (${erlangTermText(object)})`);
    if (!isJsonNumber(value)) throw invalidStats(`non-numeric _stats input received for ${name}: ${erlangTermText(value)}`);
    return value;
  };
  return { sum: field('sum'), count: field('count'), min: field('min'), max: field('max'), sumsqr: field('sumsqr') };
}

function addStats(value: JsonValue, acc: StatsAcc): StatsAcc {
  if (Array.isArray(value) && Array.isArray(acc)) {
    if (value.length !== acc.length) throw statsError(value);
    return value.map((item, i) => addStats(item, acc[i] as StatsAcc));
  }
  if (Array.isArray(acc)) throw statsError(value);
  const stats = acc as Stats;
  let next: Stats;
  if (isJsonNumber(value)) next = singleStats(value);
  else if (isJsonObject(value)) next = unpackStats(value);
  else throw statsError(value);
  return {
    sum: addNumbers(next.sum, stats.sum),
    count: addNumbers(next.count, stats.count),
    min: compareNumbers(stats.min, next.min) < 0 ? stats.min : next.min,
    max: compareNumbers(stats.max, next.max) > 0 ? stats.max : next.max,
    sumsqr: addNumbers(next.sumsqr, stats.sumsqr),
  };
}

function packStats(acc: StatsAcc): JsonValue {
  if (Array.isArray(acc)) return acc.map(packStats);
  const stats = acc as Stats;
  return { sum: stats.sum, count: stats.count, min: stats.min, max: stats.max, sumsqr: stats.sumsqr };
}
