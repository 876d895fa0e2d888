/**
 * JSON parsing as CouchDB 3.x (jiffy 1.1) reads it, into `JsonValue`s.
 *
 * Two paths. Most documents hold nothing that `JSON.parse` gets wrong, and a
 * cheap pre-scan (one tight loop over the text: number tokens, keys, escapes
 * and surrogates) proves it, so the native parser does the work; a walk of the
 * result then compares key counts to catch duplicate keys. Anything unusual
 * goes to a strict hand-written parser: floats with integral values (`1.0`,
 * `1e3`, `-0.0` become `JsonFloat`), integers beyond 2^53 (`bigint`), duplicate
 * keys (the last value wins at the position of the last occurrence), keys that
 * look like array indices (their document order is recorded, see
 * json-order.ts), surrogate escapes (lone ones are rejected), and numbers that
 * jiffy reads in its own way (see `decodeFloat`).
 *
 * Every syntax error is CouchDB's 400 `invalid UTF-8 JSON`.
 */
import { invalidJson } from './errors.js';
import { defaultLimits } from './limits.js';
import { JsonFloat, type JsonArray, type JsonObject, type JsonValue } from './json-value.js';
import { defineMember, isArrayIndexKey, setKeyOrder } from './json-order.js';

export interface ParseJsonOptions {
  /** Deepest nesting of objects and arrays accepted (default: limits.jsonDepthMax). */
  readonly depthMax?: number;
}

export function parseJson(text: string, options?: ParseJsonOptions): JsonValue {
  const depthMax = options?.depthMax ?? defaultLimits.jsonDepthMax;
  const keyCount = scanForNativeParse(text, depthMax);
  if (keyCount >= 0) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw invalidJson();
    }
    // Fewer keys than the text holds means some were duplicates.
    let parsedKeyCount: number;
    try {
      parsedKeyCount = countKeys(value);
    } catch {
      throw invalidJson(); // nested deeper than the call stack allows
    }
    if (parsedKeyCount === keyCount) {
      if (typeof value === 'object' && value !== null) nativeParsed.add(value);
      return value as JsonValue;
    }
  }
  return parseStrict(text, depthMax);
}

/**
 * Objects and arrays `parseJson` returned from its native path. The pre-scan
 * proved everything in them plain (no `JsonFloat`, `bigint`, number beyond
 * 2^53 or recorded key order), so writers may use `stringifyPlainJson` on
 * them and on any member, skipping the walk that would prove it again.
 */
const nativeParsed = new WeakSet<object>();

/** Whether `value` is (the root of) a value `parseJson` read on its native path; see `nativeParsed`. */
export function isNativeParsed(value: JsonValue): boolean {
  return typeof value === 'object' && value !== null && nativeParsed.has(value);
}

/** The strict parser alone (exported for tests and benchmarks). */
export function parseStrict(text: string, depthMax: number = defaultLimits.jsonDepthMax): JsonValue {
  if (!isWellFormed(text)) throw invalidJson();
  return new StrictParser(text, depthMax).parseDocument();
}

/** A raw lone surrogate can only come from text that was not valid UTF-8. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

// ---------------------------------------------------------------------------
// Fast path

const needsStrictParse = -1;
/** Smallest positive normal double: below it glibc's strtod reports ERANGE. */
const normalMin = 2.2250738585072014e-308;
/** jiffy copies number lexemes shorter than this into a buffer for strtod. */
const numberBufferLength = 32;

/**
 * Returns how many object keys `text` holds when `JSON.parse` will read it as
 * CouchDB does (then the caller checks for duplicates), or -1 when it needs the
 * strict parser. It need not detect syntax errors, which JSON.parse rejects,
 * but must catch what JSON.parse accepts and jiffy does not: lone surrogates
 * (raw ones mean the text was not valid UTF-8; JSON.parse rejects them outside
 * strings).
 */
function scanForNativeParse(text: string, depthMax: number): number {
  const length = text.length;
  let keys = 0;
  let depth = 0;
  let i = 0;
  while (i < length) {
    let c = text.charCodeAt(i);
    if (c === 0x22) {
      const first = text.charCodeAt(i + 1);
      // Inline, not indexOf: a native call per (short) string costs more.
      for (;;) {
        c = text.charCodeAt(++i);
        if (c > 0x5c) {
          if (c < 0xd800 || c > 0xdfff) continue;
          // A raw surrogate must be a high one followed by a low one.
          if (c > 0xdbff) return needsStrictParse;
          c = text.charCodeAt(++i);
          if (c < 0xdc00 || c > 0xdfff) return needsStrictParse;
          continue;
        }
        if (c === 0x22) break;
        if (c === 0x5c) {
          c = text.charCodeAt(++i);
          if (c === 0x75 && isSurrogateEscape(text, i + 1)) return needsStrictParse;
        } else if (c !== c) {
          return needsStrictParse; // unterminated: NaN past the end
        }
      }
      c = text.charCodeAt(++i);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      if (c === 0x3a) {
        keys++;
        if (first >= 0x30 && first <= 0x39) return needsStrictParse; // maybe an index-like key
        i++;
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (++depth > depthMax) return needsStrictParse;
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      depth--;
      i++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      if (c === 0x2d) i++;
      const digitsStart = i;
      let d = text.charCodeAt(i);
      while (d >= 0x30 && d <= 0x39) d = text.charCodeAt(++i);
      const integerDigits = i - digitsStart;
      if (d === 0x2e) {
        // Common case: `12.99`, a short decimal with a non-zero fraction and no
        // exponent. With at most 15 digits it is a normal, non-integral double.
        const fractionStart = i + 1;
        let nonZeroFraction = false;
        d = text.charCodeAt(++i);
        while (d >= 0x30 && d <= 0x39) {
          if (d !== 0x30) nonZeroFraction = true;
          d = text.charCodeAt(++i);
        }
        if (d !== 0x65 && d !== 0x45 && nonZeroFraction && integerDigits + (i - fractionStart) <= 15) continue;
      }
      if (d === 0x2e || d === 0x65 || d === 0x45 || i - digitsStart > integerDigits) {
        const hasFraction = i - digitsStart > integerDigits || d === 0x2e;
        while ((d >= 0x30 && d <= 0x39) || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d || d === 0x2e) {
          d = text.charCodeAt(++i);
        }
        if (!hasFraction && i - start >= numberBufferLength) return needsStrictParse;
        const value = +text.slice(start, i);
        // Integral floats need JsonFloat; NaN/overflow/underflow need jiffy's rules.
        if (Number.isInteger(value) || !(Math.abs(value) >= normalMin) || Math.abs(value) === Infinity) {
          return needsStrictParse;
        }
      } else if (integerDigits > 15) {
        if (!Number.isSafeInteger(+text.slice(start, i))) return needsStrictParse;
      } else if (c === 0x2d && integerDigits === 1 && text.charCodeAt(digitsStart) === 0x30) {
        return needsStrictParse; // "-0" is the integer 0, not JavaScript's -0
      }
      continue;
    }
    i++;
  }
  return keys;
}

/** True when the four hex digits at `at` are a surrogate (D800-DFFF). */
function isSurrogateEscape(text: string, at: number): boolean {
  const high = text.charCodeAt(at);
  if (high !== 0x64 && high !== 0x44) return false;
  const next = text.charCodeAt(at + 1);
  return (next >= 0x38 && next <= 0x39) || (next >= 0x61 && next <= 0x66) || (next >= 0x41 && next <= 0x46);
}

function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (typeof element === 'object' && element !== null) count += countKeys(element);
    }
    return count;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    count++;
    const member = object[key];
    if (typeof member === 'object' && member !== null) count += countKeys(member);
  }
  return count;
}

// ---------------------------------------------------------------------------
// Strict path

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
const minSafe = -maxSafe;
const nonZeroDigit = /[1-9]/;

/**
 * A float lexeme as jiffy 1.1 reads it. Lexemes shorter than 32 characters go
 * through strtod; when that reports ERANGE (overflow, or a result below the
 * normal range), or the lexeme is longer, jiffy hands it to Erlang:
 * - with a fraction: `list_to_float` (correctly rounded; underflow gives 0.0,
 *   overflow is an error);
 * - exponent only: `Int * math:pow(10, Exp)`, so `5e-324` is 5 * 0.0 = 0.0 and
 *   `1e-320` is 1 * 1e-320; a non-finite result is an error.
 */
function decodeFloat(lexeme: string, hasFraction: boolean, exponentAt: number): number {
  if (lexeme.length < numberBufferLength) {
    const value = Number(lexeme);
    const magnitude = Math.abs(value);
    const underflow = magnitude < normalMin && (magnitude !== 0 || mantissaIsNonZero(lexeme, exponentAt));
    if (magnitude !== Infinity && !underflow) return value;
  }
  if (hasFraction) {
    const value = Number(lexeme);
    if (!Number.isFinite(value)) throw invalidJson();
    return value;
  }
  const mantissa = Number(BigInt(lexeme.slice(0, exponentAt)));
  const power = Number('1e' + lexeme.slice(exponentAt + 1));
  const value = mantissa * power;
  if (!Number.isFinite(power) || !Number.isFinite(mantissa) || !Number.isFinite(value)) throw invalidJson();
  return value;
}

function mantissaIsNonZero(lexeme: string, exponentAt: number): boolean {
  return nonZeroDigit.test(exponentAt === -1 ? lexeme : lexeme.slice(0, exponentAt));
}

class StrictParser {
  private position = 0;
  private readonly text: string;
  private readonly depthMax: number;

  constructor(text: string, depthMax: number) {
    this.text = text;
    this.depthMax = depthMax;
  }

  parseDocument(): JsonValue {
    let value: JsonValue;
    try {
      this.skipWhitespace();
      value = this.parseValue(0);
      this.skipWhitespace();
    } catch (error) {
      if (error instanceof RangeError) throw invalidJson(); // call stack exhausted
      throw error;
    }
    if (this.position !== this.text.length) throw invalidJson();
    return value;
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.position;
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
    this.position = i;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.position);
    switch (c) {
      case 0x7b:
        return this.parseObject(depth + 1);
      case 0x5b:
        return this.parseArray(depth + 1);
      case 0x22:
        return this.parseString();
      case 0x74:
        return this.parseLiteral('true', true);
      case 0x66:
        return this.parseLiteral('false', false);
      case 0x6e:
        return this.parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        throw invalidJson();
    }
  }

  private parseLiteral(word: string, value: JsonValue): JsonValue {
    if (!this.text.startsWith(word, this.position)) throw invalidJson();
    this.position += word.length;
    return value;
  }

  private parseObject(depth: number): JsonObject {
    if (depth > this.depthMax) throw invalidJson();
    const object: JsonObject = {};
    const keys: string[] = [];
    let reordered = false; // document order may differ from JavaScript's
    this.position++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x7d) {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text.charCodeAt(this.position) !== 0x22) throw invalidJson();
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text.charCodeAt(this.position) !== 0x3a) throw invalidJson();
      this.position++;
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (Object.prototype.hasOwnProperty.call(object, key)) {
        delete object[key]; // re-adding moves the key to its last position
        keys.splice(keys.indexOf(key), 1);
      }
      defineMember(object, key, value);
      keys.push(key);
      if (!reordered && isArrayIndexKey(key)) reordered = true;
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x2c) {
        this.skipWhitespace();
        continue;
      }
      if (c === 0x7d) break;
      throw invalidJson();
    }
    if (reordered) setKeyOrder(object, keys);
    return object;
  }

  private parseArray(depth: number): JsonArray {
    if (depth > this.depthMax) throw invalidJson();
    const array: JsonArray = [];
    this.position++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x5d) {
      this.position++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x2c) {
        this.skipWhitespace();
        continue;
      }
      if (c === 0x5d) return array;
      throw invalidJson();
    }
  }

  private parseString(): string {
    const text = this.text;
    const start = this.position + 1;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.position = i + 1;
        return text.slice(start, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20 || Number.isNaN(c)) throw invalidJson(); // control character or end of text
      i++;
    }
    let result = text.slice(start, i);
    let chunkStart = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.position = i + 1;
        return result + text.slice(chunkStart, i);
      }
      if (c < 0x20 || Number.isNaN(c)) throw invalidJson();
      if (c !== 0x5c) {
        i++;
        continue;
      }
      result += text.slice(chunkStart, i);
      const escape = text.charCodeAt(i + 1);
      i += 2;
      switch (escape) {
        case 0x22: result += '"'; break;
        case 0x5c: result += '\\'; break;
        case 0x2f: result += '/'; break;
        case 0x62: result += '\b'; break;
        case 0x66: result += '\f'; break;
        case 0x6e: result += '\n'; break;
        case 0x72: result += '\r'; break;
        case 0x74: result += '\t'; break;
        case 0x75: {
          const unit = this.hex4(i);
          i += 4;
          if (unit >= 0xdc00 && unit <= 0xdfff) throw invalidJson(); // low surrogate alone
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text.charCodeAt(i) !== 0x5c || text.charCodeAt(i + 1) !== 0x75) throw invalidJson();
            const low = this.hex4(i + 2);
            if (low < 0xdc00 || low > 0xdfff) throw invalidJson();
            i += 6;
            result += String.fromCharCode(unit, low);
          } else {
            result += String.fromCharCode(unit);
          }
          break;
        }
        default:
          throw invalidJson();
      }
      chunkStart = i;
    }
  }

  private hex4(at: number): number {
    let value = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.text.charCodeAt(at + k);
      let digit: number;
      if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) digit = c - 0x37;
      else throw invalidJson();
      value = value * 16 + digit;
    }
    return value;
  }

  private parseNumber(): number | bigint | JsonFloat {
    const text = this.text;
    const start = this.position;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    let c = text.charCodeAt(i);
    if (c === 0x30) {
      c = text.charCodeAt(++i);
      if (c >= 0x30 && c <= 0x39) throw invalidJson(); // leading zero
    } else if (c >= 0x31 && c <= 0x39) {
      while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    } else {
      throw invalidJson();
    }
    let hasFraction = false;
    let exponentAt = -1;
    if (c === 0x2e) {
      hasFraction = true;
      c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) throw invalidJson();
      while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    }
    if (c === 0x65 || c === 0x45) {
      exponentAt = i - start;
      c = text.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) throw invalidJson();
      while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    }
    this.position = i;
    const lexeme = text.slice(start, i);
    if (hasFraction || exponentAt !== -1) {
      const value = decodeFloat(lexeme, hasFraction, exponentAt);
      return Number.isInteger(value) ? new JsonFloat(value) : value;
    }
    if (lexeme.length <= 15) return Number(lexeme) + 0; // + 0 turns -0 into 0
    const big = BigInt(lexeme);
    return big <= maxSafe && big >= minSafe ? Number(big) : big;
  }
}
