/**
 * CouchDB's view collation: the order of view keys and of Mango comparisons.
 *
 *   null < false < true < numbers < strings < arrays < objects
 *
 * Numbers compare by value whatever their representation (`1`, `1.0` and a
 * bigint are one number line; a bigint against a double is compared exactly).
 * Strings compare with the Unicode Collation Algorithm as ICU's root collator
 * does (`couch_ejson_compare.c` opens `ucol_open("")` with default settings):
 * `"" < "~" < "1" < "a" < "A" < "aa" < "b" < "B" < "é" < "Z"`. Arrays compare
 * element by element, then by length; objects member by member (key, then
 * value, in document order), then by member count.
 *
 * Two entry points:
 * - `collateJson` is CouchDB's comparison exactly: it answers 0 for values
 *   CouchDB considers equal (`1` and `1.0`; strings ICU calls equal, such as
 *   `"a"` and `"a\u0000"`). Mango's `$eq`, `$gt`… use it.
 * - `compareJson` refines it into a total order for sorting and storage:
 *   where `collateJson` says 0, the first pair of strings (or keys) that are
 *   not identical decides by code point. So `compareJson(a, b) === 0` exactly
 *   when the values have the same shape, identical strings and numerically
 *   equal numbers, and every order `collateJson` imposes is kept.
 *
 * Pure: no I/O. Node's official builds carry full ICU, whose root collation
 * is what `Intl.Collator` gives for a locale without tailoring ("en").
 */
import { orderedKeys } from './json-order.js';
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';

/** The rank of a value's type in collation order. */
export const enum CollationRank {
  Null = 0,
  False = 1,
  True = 2,
  Number = 3,
  String = 4,
  Array = 5,
  Object = 6,
}

/** One collator for the process: constructing one is expensive, comparing is not. */
const icuRoot = new Intl.Collator('en', { usage: 'sort', sensitivity: 'variant', ignorePunctuation: false, numeric: false });

export function collationRank(value: JsonValue): CollationRank {
  switch (typeof value) {
    case 'boolean':
      return value ? CollationRank.True : CollationRank.False;
    case 'number':
    case 'bigint':
      return CollationRank.Number;
    case 'string':
      return CollationRank.String;
    default:
      if (value === null) return CollationRank.Null;
      if (value instanceof JsonFloat) return CollationRank.Number;
      return Array.isArray(value) ? CollationRank.Array : CollationRank.Object;
  }
}

/** CouchDB's collation of two JSON values: negative, 0 (CouchDB-equal) or positive. */
export function collateJson(a: JsonValue, b: JsonValue): number {
  const rankA = collationRank(a);
  const rankB = collationRank(b);
  if (rankA !== rankB) return rankA < rankB ? -1 : 1;
  switch (rankA) {
    case CollationRank.Number:
      return compareNumbers(a as number | bigint | JsonFloat, b as number | bigint | JsonFloat);
    case CollationRank.String:
      return collateStrings(a as string, b as string);
    case CollationRank.Array:
      return collateArrays(a as JsonValue[], b as JsonValue[]);
    case CollationRank.Object:
      return collateObjects(a as JsonObject, b as JsonObject);
    default:
      return 0; // null, false, true: one value each
  }
}

/** A total order refining `collateJson` (see the module comment). */
export function compareJson(a: JsonValue, b: JsonValue): number {
  const order = collateJson(a, b);
  return order !== 0 ? order : tieBreak(a, b);
}

/** Strings as ICU's root collator orders them (0 where ICU calls them equal). */
export function collateStrings(a: string, b: string): number {
  if (a === b) return 0;
  const order = icuRoot.compare(a, b);
  return order < 0 ? -1 : order > 0 ? 1 : 0;
}

/** Strings by code point (UTF-8 byte order), not UTF-16 code unit order. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) stand for code points above every other unit.
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Numbers of any representation by value; bigints exactly. */
export function compareNumbers(a: number | bigint | JsonFloat, b: number | bigint | JsonFloat): number {
  const x = typeof a === 'object' ? a.value : a;
  const y = typeof b === 'object' ? b.value : b;
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  return typeof x === 'bigint' ? compareBigToDouble(x, y as number) : -compareBigToDouble(y as bigint, x as number);
}

/** An exact comparison of an integer with a finite double. */
function compareBigToDouble(big: bigint, double: number): number {
  if (!Number.isFinite(double)) return double > 0 ? -1 : 1;
  const floor = Math.floor(double);
  const floorBig = BigInt(floor);
  if (big < floorBig) return -1;
  if (big > floorBig) return 1;
  return floor === double ? 0 : -1; // big == floor(double) < double
}

function collateArrays(a: readonly JsonValue[], b: readonly JsonValue[]): number {
  return compareSequences(a, b, collateJson);
}

function collateObjects(a: JsonObject, b: JsonObject): number {
  return compareMembers(a, b, collateStrings, collateJson);
}

/** Element by element, then the shorter first: how lists compare in CouchDB and Erlang. */
export function compareSequences(a: readonly JsonValue[], b: readonly JsonValue[], compare: (x: JsonValue, y: JsonValue) => number): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const order = compare(a[i] as JsonValue, b[i] as JsonValue);
    if (order !== 0) return order;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Member by member in document order (key, then value), then the smaller object first. */
export function compareMembers(
  a: JsonObject,
  b: JsonObject,
  compareKeys: (x: string, y: string) => number,
  compareValues: (x: JsonValue, y: JsonValue) => number,
): number {
  const keysA = orderedKeys(a);
  const keysB = orderedKeys(b);
  const length = Math.min(keysA.length, keysB.length);
  for (let i = 0; i < length; i++) {
    const keyA = keysA[i] as string;
    const keyB = keysB[i] as string;
    const keyOrder = compareKeys(keyA, keyB);
    if (keyOrder !== 0) return keyOrder;
    const valueOrder = compareValues(a[keyA] as JsonValue, b[keyB] as JsonValue);
    if (valueOrder !== 0) return valueOrder;
  }
  return keysA.length === keysB.length ? 0 : keysA.length < keysB.length ? -1 : 1;
}

function tieBreak(a: JsonValue, b: JsonValue): number {
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  if (typeof a !== 'object' || a === null || a instanceof JsonFloat) return 0;
  if (Array.isArray(a)) {
    const other = b as JsonValue[];
    for (let i = 0; i < a.length; i++) {
      const order = tieBreak(a[i] as JsonValue, other[i] as JsonValue);
      if (order !== 0) return order;
    }
    return 0;
  }
  const other = b as JsonObject;
  const keysA = orderedKeys(a);
  const keysB = orderedKeys(other);
  for (let i = 0; i < keysA.length; i++) {
    const keyA = keysA[i] as string;
    const keyB = keysB[i] as string;
    const keyOrder = compareCodePoints(keyA, keyB);
    if (keyOrder !== 0) return keyOrder;
    const valueOrder = tieBreak(a[keyA] as JsonValue, other[keyB] as JsonValue);
    if (valueOrder !== 0) return valueOrder;
  }
  return 0;
}
