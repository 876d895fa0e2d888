/**
 * JSON as CouchDB's error reasons show it, and as Erlang orders and equates
 * it: Mango reports a bad operator argument with `io_lib:format("~w", [Arg])`
 * of the decoded JSON, and compares `_id` with Erlang's own term order.
 *
 * JSON decodes to: strings → binaries (`<<97,98>>`, UTF-8 bytes), integers →
 * integers, floats → floats (`1.0`, `1.0e10`: OTP's shortest round-trip
 * form), arrays → lists (`[1,2]`; `~w` never prints a list as a string),
 * objects → `{[{Key,Value},...]}`, and `true`/`false`/`null` → atoms.
 */
import { orderedKeys } from '../core/json-order.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../core/json-value.js';
import { compareCodePoints, compareMembers, compareSequences } from '../core/collation.js';

const utf8 = new TextEncoder();

/** `~w` of the term CouchDB decodes `value` to. */
export function erlangTermText(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return `<<${utf8.encode(value).join(',')}>>`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isInteger(value) ? String(value) : erlangFloatText(value);
    default:
      if (value === null) return 'null';
      if (value instanceof JsonFloat) return erlangFloatText(value.value);
      if (Array.isArray(value)) return `[${value.map(erlangTermText).join(',')}]`;
      return `{[${orderedKeys(value)
        .map((key) => `{${erlangTermText(key)},${erlangTermText(value[key] as JsonValue)}}`)
        .join(',')}]}`;
  }
}

/** The largest magnitude OTP still considers for plain decimal notation. */
const decimalNotationMax = 2 ** 53;

/**
 * OTP's `float_to_list(F, [short])` (what `~w` prints): the shortest digits
 * that read back to the same double, in decimal notation unless scientific
 * notation is shorter, and always scientific from 2^53 on. `1.0`, `0.1`,
 * `1.0e10`, `1.5e300`, `-0.0`.
 */
export function erlangFloatText(value: number): string {
  if (Object.is(value, -0)) return '-0.0';
  if (value === 0) return '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const scientific = `${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}e${exponent}`;
  if (Math.abs(value) >= decimalNotationMax) return sign + scientific;
  let decimal: string;
  if (exponent < 0) decimal = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  else if (digits.length <= exponent + 1) decimal = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  else decimal = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  return sign + (scientific.length < decimal.length ? scientific : decimal);
}

/** Erlang's type order: number < atom < tuple < list < binary (`[]` is the least list). */
const enum TermRank {
  Number = 0,
  Atom = 1,
  Tuple = 2,
  List = 3,
  Binary = 4,
}

function termRank(value: JsonValue): TermRank {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return TermRank.Number;
    case 'boolean':
      return TermRank.Atom;
    case 'string':
      return TermRank.Binary;
    default:
      if (value === null) return TermRank.Atom;
      if (value instanceof JsonFloat) return TermRank.Number;
      return Array.isArray(value) ? TermRank.List : TermRank.Tuple;
  }
}

function numberValue(value: number | bigint | JsonFloat): number | bigint {
  return typeof value === 'object' ? value.value : value;
}

function compareNumeric(a: number | bigint, b: number | bigint): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: one is a bigint (outside ±2^53), compare exactly through the double's floor.
  const big = typeof a === 'bigint' ? a : (b as bigint);
  const double = typeof a === 'bigint' ? (b as number) : (a as number);
  const floor = BigInt(Math.floor(double));
  const order = big < floor ? -1 : big > floor ? 1 : Math.floor(double) === double ? 0 : -1;
  return typeof a === 'bigint' ? order : -order;
}

function atomText(value: boolean | null): string {
  return value === null ? 'null' : value ? 'true' : 'false';
}

/**
 * Erlang's standard term order of two decoded JSON values (`A < B`), as
 * Mango's `cmp_raw` uses for `_id`: numbers by value, atoms alphabetically
 * (`false < null < true`), binaries bytewise (code point order).
 */
export function compareErlangTerms(a: JsonValue, b: JsonValue): number {
  const rankA = termRank(a);
  const rankB = termRank(b);
  if (rankA !== rankB) return rankA < rankB ? -1 : 1;
  switch (rankA) {
    case TermRank.Number:
      return compareNumeric(numberValue(a as number | bigint | JsonFloat), numberValue(b as number | bigint | JsonFloat));
    case TermRank.Atom: {
      const x = atomText(a as boolean | null);
      const y = atomText(b as boolean | null);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case TermRank.Binary:
      return compareCodePoints(a as string, b as string);
    case TermRank.List:
      return compareTermLists(a as JsonValue[], b as JsonValue[]);
    default:
      return compareTermObjects(a as JsonObject, b as JsonObject);
  }
}

function compareTermLists(a: readonly JsonValue[], b: readonly JsonValue[]): number {
  return compareSequences(a, b, compareErlangTerms);
}

/** `{[{K,V},...]}`: the member lists compare as lists of `{Key, Value}` tuples. */
function compareTermObjects(a: JsonObject, b: JsonObject): number {
  return compareMembers(a, b, compareCodePoints, compareErlangTerms);
}

/** How strictly `erlangEquals` compares numbers. */
export type TermEquality = 'exact' | 'arithmetic';

/**
 * Erlang term equality of two decoded JSON values: `exact` is `=:=` (an
 * integer never equals a float: `1` vs `1.0`), `arithmetic` is `==`
 * (`1 == 1.0`). Objects are equal only with the same members in the same order.
 */
export function erlangEquals(a: JsonValue, b: JsonValue, equality: TermEquality): boolean {
  const rank = termRank(a);
  if (rank !== termRank(b)) return false;
  switch (rank) {
    case TermRank.Number: {
      if (equality === 'exact' && isErlangInteger(a) !== isErlangInteger(b)) return false;
      return compareNumeric(numberValue(a as number | bigint | JsonFloat), numberValue(b as number | bigint | JsonFloat)) === 0;
    }
    case TermRank.Atom:
    case TermRank.Binary:
      return a === b;
    case TermRank.List: {
      const x = a as JsonValue[];
      const y = b as JsonValue[];
      return x.length === y.length && x.every((item, i) => erlangEquals(item, y[i] as JsonValue, equality));
    }
    default: {
      const x = a as JsonObject;
      const y = b as JsonObject;
      const keysX = orderedKeys(x);
      const keysY = orderedKeys(y);
      if (keysX.length !== keysY.length) return false;
      return keysX.every((key, i) => key === keysY[i] && erlangEquals(x[key] as JsonValue, y[key] as JsonValue, equality));
    }
  }
}

/** True for values CouchDB decodes to an Erlang integer (not `1.0`, not `1.5`). */
export function isErlangInteger(value: JsonValue): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}
