/**
 * Mango selectors: the one selector engine behind `_find`, the `_selector`
 * changes filter and filtered replication.
 *
 * `parseSelector` validates and normalises a selector once (CouchDB's
 * errors, see `selector-normalize.ts`); `matchesSelector` then tests
 * documents against it, as `mango_selector:match/2` does:
 * - comparisons (`$eq`, `$gt`, `$in`…) use view collation across types, so
 *   `{"age":{"$gt":30}}` also matches `"unknown"`; `_id` compares in raw
 *   Erlang term order instead;
 * - a condition on a missing field fails (`$ne` too), except `$exists:false`;
 * - equality is on the whole value: `{"tags":"a"}` does not match `["a"]`
 *   (use `$elemMatch`, `$all` or `$in`);
 * - the document is matched as CouchDB renders it, so `_id`, `_rev` and (for
 *   tombstones) `_deleted` are ordinary fields.
 */
import { collateJson } from '../core/collation.js';
import { isJsonObject, JsonFloat, type JsonObject, type JsonValue } from '../core/json-value.js';
import { orderedKeys } from '../core/json-order.js';
import { compareErlangTerms, erlangEquals, isErlangInteger } from './erlang-text.js';
import { getField } from './selector-field.js';
import { normalizeSelector, type SelectorNode } from './selector-normalize.js';
import { pcreMatches } from './selector-regex.js';

/** A validated, normalised selector, ready to match. */
export interface Selector {
  /** The selector as the client wrote it. */
  readonly source: JsonObject;
  readonly root: SelectorNode;
}

type Compare = (a: JsonValue, b: JsonValue) => number;

/** Validates and normalises `source`; throws CouchDB's 400 errors (`bad_arg`, `invalid_operator`, …). */
export function parseSelector(source: JsonObject): Selector {
  return { source, root: normalizeSelector(source) };
}

/** Whether `doc` (a document as CouchDB renders it, or any JSON value) matches. */
export function matchesSelector(selector: Selector, doc: JsonValue): boolean {
  return matchNode(selector.root, doc, collateJson);
}

function matchNode(node: SelectorNode, value: JsonValue, compare: Compare): boolean {
  switch (node.kind) {
    case 'empty':
    case 'text':
      return true;
    case 'combine':
      if (node.operator === '$and') return node.args.every((arg) => matchNode(arg, value, compare));
      if (node.operator === '$or') return node.args.length === 0 || node.args.some((arg) => matchNode(arg, value, compare));
      // A `$nor` left inside `$elemMatch` (CouchDB raises "Invalid operator" there): none may match.
      return !node.args.some((arg) => matchNode(arg, value, compare));
    case 'not':
      return !matchNode(node.arg, value, compare);
    case 'nested':
      return matchNested(node.operator, node.arg, value, compare);
    case 'condition':
      return matchCondition(node, value, compare);
    case 'field': {
      const lookup = getField(value, node.path);
      if (!lookup.found) {
        return !lookup.badPath && node.cond.kind === 'condition' && node.cond.operator === '$exists' && node.cond.arg === false;
      }
      return matchNode(node.cond, lookup.value, node.field === '_id' ? compareErlangTerms : compare);
    }
    case 'member':
      throw new Error('assertion failed: selector members are gone after normalisation');
  }
}

function matchNested(operator: string, arg: SelectorNode, value: JsonValue, compare: Compare): boolean {
  switch (operator) {
    case '$elemMatch':
      return Array.isArray(value) && value.some((item) => matchNode(arg, item, compare));
    case '$allMatch':
      return Array.isArray(value) && value.length > 0 && value.every((item) => matchNode(arg, item, compare));
    default: // $keyMapMatch: some member name matches
      return isJsonObject(value) && orderedKeys(value).some((key) => matchNode(arg, key, compare));
  }
}

function matchCondition(node: Extract<SelectorNode, { kind: 'condition' }>, value: JsonValue, compare: Compare): boolean {
  const arg = node.arg;
  switch (node.operator) {
    case '$lt':
      return compare(value, arg) < 0;
    case '$lte':
      return compare(value, arg) <= 0;
    case '$eq':
      return compare(value, arg) === 0;
    case '$ne':
      return compare(value, arg) !== 0;
    case '$gte':
      return compare(value, arg) >= 0;
    case '$gt':
      return compare(value, arg) > 0;
    case '$in':
      return isIn(arg as JsonValue[], value, compare);
    case '$nin': {
      const args = arg as JsonValue[];
      if (args.length === 0) return true;
      if (Array.isArray(value)) return !isIn(args, value, compare);
      return args.every((candidate) => compare(value, candidate) !== 0);
    }
    case '$all':
      return matchAll(arg as JsonValue[], value);
    case '$exists':
      return arg === true; // the field was found
    case '$type':
      return typeName(value) === arg;
    case '$mod':
      return matchMod(arg as [number | bigint, number | bigint], value);
    case '$regex':
      return typeof value === 'string' && node.regex !== undefined && pcreMatches(node.regex, value);
    case '$beginsWith':
      return typeof value === 'string' && value.startsWith(arg as string);
    case '$size':
      return Array.isArray(value) && BigInt(value.length) === BigInt(arg as number | bigint);
  }
}

/** `$in`: some candidate equals the value, or (for an array) one of its items. */
function isIn(candidates: readonly JsonValue[], value: JsonValue, compare: Compare): boolean {
  if (Array.isArray(value)) return candidates.some((candidate) => value.some((item) => compare(item, candidate) === 0));
  return candidates.some((candidate) => compare(value, candidate) === 0);
}

/**
 * `$all`: every candidate is an item of the array (Erlang's exact `=:=`:
 * `1` is not `1.0`), or the single candidate is an array equal to it.
 */
function matchAll(candidates: readonly JsonValue[], value: JsonValue): boolean {
  if (candidates.length === 0 || !Array.isArray(value)) return false;
  if (candidates.every((candidate) => value.some((item) => erlangEquals(candidate, item, 'exact')))) return true;
  const only = candidates[0] as JsonValue;
  return candidates.length === 1 && Array.isArray(only) && erlangEquals(only, value, 'arithmetic');
}

/** `$mod: [divisor, remainder]` on integers only; `rem` takes the dividend's sign. */
function matchMod([divisor, remainder]: readonly [number | bigint, number | bigint], value: JsonValue): boolean {
  if (!isErlangInteger(value)) return false;
  if (typeof divisor === 'number' && typeof remainder === 'number' && typeof value === 'number') {
    return divisor !== 0 && value % divisor === remainder;
  }
  const d = BigInt(divisor);
  return d !== 0n && BigInt(value) % d === BigInt(remainder); // CouchDB crashes on 0; no match here
}

/** `mango_json:type/1`. */
export function typeName(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    default:
      if (value === null) return 'null';
      if (value instanceof JsonFloat) return 'number';
      return Array.isArray(value) ? 'array' : 'object';
  }
}
