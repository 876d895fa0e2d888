/**
 * How many bytes a JSON value takes as text, estimated the way CouchDB sizes
 * a document body against `max_document_size` (`couch_ejson_size`): strings
 * count their UTF-8 bytes plus the quotes (escapes ignored), numbers their
 * digits, containers their brackets, colons and commas. An estimate, as
 * CouchDB's is: it decides a limit, it does not predict a file size.
 *
 * `estimateJsonBytes(value, stopAbove)` stops walking once the count passes
 * `stopAbove`, so checking a huge document costs no more than the limit.
 */
import { JsonFloat, type JsonValue } from './json-value.js';

export function estimateJsonBytes(value: JsonValue, stopAbove = Number.POSITIVE_INFINITY): number {
  let total = 0;
  // An explicit stack: documents may nest deeper than the call stack allows.
  const pending: JsonValue[] = [value];
  while (pending.length > 0 && total <= stopAbove) {
    const next = pending.pop() as JsonValue;
    if (next === null) total += 4;
    else if (typeof next === 'boolean') total += next ? 4 : 5;
    else if (typeof next === 'string') total += 2 + Buffer.byteLength(next);
    else if (typeof next === 'number' || typeof next === 'bigint') total += String(next).length;
    else if (next instanceof JsonFloat) total += Math.max(3, String(next.value).length);
    else if (Array.isArray(next)) {
      // [ ] and a comma between elements
      total += 2 + Math.max(0, next.length - 1);
      for (const element of next) pending.push(element);
    } else {
      const keys = Object.keys(next);
      // { } a comma between members, and per member its quoted key and a colon
      total += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        total += 3 + Buffer.byteLength(key);
        pending.push(next[key] as JsonValue);
      }
    }
  }
  return total;
}
