/**
 * Document key order for objects whose JavaScript property order cannot hold it.
 *
 * CouchDB keeps object members in the order the client sent them, and that order
 * is part of the revision hash. JavaScript enumerates array-index keys ("0",
 * "17", "1023") first, in ascending numeric order, whatever order they were
 * inserted in. So `{"b":1,"0":2}` would silently become `{"0":2,"b":1}`.
 *
 * For the rare object where the two orders differ, the parser attaches the
 * document order as a non-enumerable symbol property; the writer and the
 * revision hash read it through `orderedKeys`. It is not copied by spread or
 * `Object.assign`, so code that derives one object from another should use
 * `filterJsonObject` (or `orderedKeys` + `setKeyOrder`) to keep the order.
 */
import type { JsonObject, JsonValue } from './json-value.js';

/** Where an object's document key order is kept when it differs from JS order. */
export const keyOrderSymbol: unique symbol = Symbol('settee.jsonKeyOrder');

type WithKeyOrder = JsonObject & { [keyOrderSymbol]?: readonly string[] };

const indexKeyMax = 4294967294; // 2^32 - 2: larger numeric keys are ordinary keys in JS

/** True when JavaScript would enumerate `key` as an array index (before other keys). */
export function isArrayIndexKey(key: string): boolean {
  const length = key.length;
  if (length === 0 || length > 10) return false;
  const first = key.charCodeAt(0);
  if (first < 0x30 || first > 0x39) return false;
  if (first === 0x30) return length === 1;
  for (let i = 1; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return length < 10 || Number(key) <= indexKeyMax;
}

/**
 * The keys of `object` in document order. Keys added after the order was
 * recorded follow the recorded ones; deleted keys are skipped.
 */
export function orderedKeys(object: JsonObject): string[] {
  const recorded = (object as WithKeyOrder)[keyOrderSymbol];
  const keys = Object.keys(object);
  if (recorded === undefined) return keys;
  let present = 0;
  for (const key of recorded) if (Object.prototype.hasOwnProperty.call(object, key)) present++;
  if (present === recorded.length && present === keys.length) return recorded.slice();
  const result: string[] = [];
  const seen = new Set<string>();
  for (const key of recorded) {
    if (Object.prototype.hasOwnProperty.call(object, key) && !seen.has(key)) {
      result.push(key);
      seen.add(key);
    }
  }
  for (const key of keys) if (!seen.has(key)) result.push(key);
  return result;
}

/** The recorded document order of `object`, if it has one (no validation). */
export function recordedKeyOrder(object: JsonObject): readonly string[] | undefined {
  return (object as WithKeyOrder)[keyOrderSymbol];
}

/**
 * Records `keys` as the document order of `object` when JavaScript's own order
 * differs from it; does nothing otherwise.
 */
export function setKeyOrder(object: JsonObject, keys: readonly string[]): void {
  const natural = Object.keys(object);
  let same = natural.length === keys.length;
  for (let i = 0; same && i < keys.length; i++) same = natural[i] === keys[i];
  if (same) {
    if ((object as WithKeyOrder)[keyOrderSymbol] !== undefined) delete (object as WithKeyOrder)[keyOrderSymbol];
    return;
  }
  Object.defineProperty(object, keyOrderSymbol, {
    value: Object.freeze(keys.slice()),
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

/** Sets `object[key] = value` as an own data property, even for `__proto__`. */
export function defineMember(object: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** A shallow copy of `object` with the members `keep` accepts, in document order. */
export function filterJsonObject(object: JsonObject, keep: (key: string) => boolean): JsonObject {
  const result: JsonObject = {};
  const keys: string[] = [];
  for (const key of orderedKeys(object)) {
    if (!keep(key)) continue;
    defineMember(result, key, object[key] as JsonValue);
    keys.push(key);
  }
  if ((object as WithKeyOrder)[keyOrderSymbol] !== undefined) setKeyOrder(result, keys);
  return result;
}
