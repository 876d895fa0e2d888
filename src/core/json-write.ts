/**
 * Compact JSON exactly as CouchDB 3.x (jiffy 1.1) writes it.
 *
 * - Integers (`number` with an integral value, `bigint`) are written with every
 *   digit, never in exponent form.
 * - Floats use the shortest digits that read back to the same double, in
 *   double-conversion's shortest mode as jiffy configures it: fixed notation for
 *   decimal exponents -7 < e < 21, else `d.ddde±x`; a float that would print
 *   without a point or exponent gets `.0` (`1000.0`, not in exponent form:
 *   `1e21` prints `1e+21`); negative zero prints `0.0`. These are exactly the
 *   rules of JavaScript's Number#toString plus the `.0`, since V8 uses the same
 *   algorithm and thresholds.
 * - Strings are escaped like JSON.stringify except that jiffy writes the
 *   remaining control characters with uppercase hex (`\u001F`); non-ASCII text,
 *   U+2028/U+2029 and `/` are written as is.
 *
 * Plain values (no JsonFloat, bigint, huge integral number or recorded key
 * order) are written by JSON.stringify.
 */
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';
import { orderedKeys, recordedKeyOrder } from './json-order.js';

export function stringifyJson(value: JsonValue): string {
  if (isPlain(value)) return fixControlEscapes(JSON.stringify(value));
  return writeValue(value);
}

/**
 * `stringifyJson` for a value known to be plain (e.g. read by `parseJson`'s
 * native path, `isNativeParsed`): skips the walk that would prove it.
 */
export function stringifyPlainJson(value: JsonValue): string {
  return fixControlEscapes(JSON.stringify(value));
}

/** CouchDB's text for a float (a double read from a lexeme with `.` or exponent). */
export function formatFloat(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (value === 0) return '0.0';
  const text = String(value);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e || c === 0x65) return text;
  }
  return text + '.0';
}

/** CouchDB's text for a plain number: an integer if integral, else a float. */
export function formatNumber(value: number): string {
  if (!Number.isInteger(value)) return Number.isFinite(value) ? String(value) : 'null';
  if (value < 1e21 && value > -1e21) return String(value + 0);
  return BigInt(value).toString();
}

const plainNumberMax = 1e21; // from here on String(n) uses exponent form

function isPlain(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return value < plainNumberMax && value > -plainNumberMax ? true : !Number.isFinite(value);
    case 'bigint':
      return false;
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlain(value[i])) return false;
        return true;
      }
      if (value instanceof JsonFloat) return false;
      const object = value as JsonObject;
      if (recordedKeyOrder(object) !== undefined) return false;
      for (const key in object) if (!isPlain(object[key])) return false;
      return true;
    }
    default:
      return true;
  }
}

/** JSON.stringify writes \u000b etc. with lowercase hex; jiffy with uppercase. */
const lowercaseControlEscape = /(\\+)u00(0[bef]|1[a-f])/g;

function fixControlEscapes(text: string): string {
  if (text.indexOf('\\u00') === -1) return text;
  return text.replace(lowercaseControlEscape, (match: string, backslashes: string, hex: string) =>
    backslashes.length % 2 === 1 ? `${backslashes}u00${hex.toUpperCase()}` : match,
  );
}

function writeString(text: string): string {
  return fixControlEscapes(JSON.stringify(text));
}

function writeValue(value: JsonValue | undefined): string {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof JsonFloat) return formatFloat(value.value);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const element = value[i];
          out += element === undefined ? 'null' : writeValue(element);
        }
        return out + ']';
      }
      let out = '{';
      let first = true;
      for (const key of orderedKeys(value)) {
        const member = value[key];
        if (member === undefined) continue; // as JSON.stringify does
        out += (first ? '' : ',') + writeString(key) + ':' + writeValue(member);
        first = false;
      }
      return out + '}';
    }
    default:
      return 'null';
  }
}
