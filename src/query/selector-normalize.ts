/**
 * Normalising a Mango selector the way CouchDB 3.4 does
 * (`mango_selector:normalize/1`), in its three steps:
 *
 * 1. operators (`norm_ops`): validate each operator's argument, turn
 *    implicit forms explicit (`{"a":1}` → `{"a":{"$eq":1}}`, several members
 *    → `$and`, `$text` → `$default`);
 * 2. fields (`norm_fields`): push field names down through `$and`, `$or`,
 *    `$not` and `$nor` to the conditions, joining nested names with dots
 *    (`{"a":{"b":{"$gt":1}}}` → `{"a.b":{"$gt":1}}`);
 * 3. negations (`norm_negations`): move `$not`/`$nor` down to the
 *    conditions with De Morgan's laws and negated operators (`$not $gt` →
 *    `$lte`). A negated condition still needs its field to exist, so
 *    `{"$not":{"a":1}}` does not match documents without `a`.
 *
 * The steps only look through combinators at the top: the argument of an
 * `$elemMatch` below a field keeps its `$not`s (matched as plain negation).
 */
import { orderedKeys } from '../core/json-order.js';
import { isJsonNumber, isJsonObject, type JsonObject, type JsonValue } from '../core/json-value.js';
import { isErlangInteger } from './erlang-text.js';
import { parseFieldPath } from './selector-field.js';
import { compilePcre } from './selector-regex.js';
import {
  selectorBadArg,
  selectorBadField,
  selectorInvalidOperator,
  selectorMissingFieldName,
  selectorNotSupported,
} from './selector-errors.js';

export type CombineOperator = '$and' | '$or' | '$nor';
export type NestedOperator = '$elemMatch' | '$allMatch' | '$keyMapMatch';
export type ConditionOperator =
  | '$lt'
  | '$lte'
  | '$eq'
  | '$ne'
  | '$gte'
  | '$gt'
  | '$in'
  | '$nin'
  | '$all'
  | '$exists'
  | '$type'
  | '$mod'
  | '$regex'
  | '$size'
  | '$beginsWith';

export type SelectorNode =
  /** `{}`: matches everything. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'combine'; readonly operator: CombineOperator; readonly args: readonly SelectorNode[] }
  | { readonly kind: 'not'; readonly arg: SelectorNode }
  | { readonly kind: 'nested'; readonly operator: NestedOperator; readonly arg: SelectorNode }
  | { readonly kind: 'condition'; readonly operator: ConditionOperator; readonly arg: JsonValue; readonly regex?: RegExp }
  /** `{"$default":{"$text":…}}`: text search, answered by a text index; matches everything here. */
  | { readonly kind: 'text'; readonly selector: JsonObject }
  /** Before step 2: a member `{key: cond}` as written. */
  | { readonly kind: 'member'; readonly key: string; readonly cond: SelectorNode }
  /** After step 2: a condition on the value at `field` (dotted text; `path` parsed). */
  | { readonly kind: 'field'; readonly field: string; readonly path: readonly string[]; readonly cond: SelectorNode };

const unsupportedOperators = new Set(['$where', '$geoWithin', '$geoIntersects', '$near', '$nearSphere']);
const anyArgument = new Set(['$lt', '$lte', '$eq', '$ne', '$gte', '$gt']);
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The normalised form of a selector object (see the module comment); throws Mango's 400s. */
export function normalizeSelector(selector: JsonObject): SelectorNode {
  if (orderedKeys(selector).length === 0) return { kind: 'empty' };
  const normalized = normalizeNegations(normalizeFields(normalizeOperators(selector), ''));
  if (normalized.kind === 'field' && normalized.field === '') throw selectorMissingFieldName();
  return normalized;
}

// ---- step 1: operators ------------------------------------------------------

function normalizeOperators(value: JsonValue): SelectorNode {
  if (!isJsonObject(value)) return { kind: 'condition', operator: '$eq', arg: value };
  const keys = orderedKeys(value);
  if (keys.length === 0) return { kind: 'condition', operator: '$eq', arg: value };
  if (keys.length > 1) {
    return { kind: 'combine', operator: '$and', args: keys.map((key) => normalizeMember(key, value[key] as JsonValue, value)) };
  }
  const key = keys[0] as string;
  return normalizeMember(key, value[key] as JsonValue, value);
}

/** One member `{key: arg}`; `whole` is the object it came from (for `$default`). */
function normalizeMember(key: string, arg: JsonValue, whole: JsonObject): SelectorNode {
  if (!key.startsWith('$')) return { kind: 'member', key, cond: normalizeOperators(arg) };
  switch (key) {
    case '$and':
    case '$or':
    case '$nor':
      if (!Array.isArray(arg)) throw selectorBadArg(key, arg);
      return { kind: 'combine', operator: key, args: arg.map(normalizeOperators) };
    case '$not':
      if (!isJsonObject(arg)) throw selectorBadArg(key, arg);
      return { kind: 'not', arg: normalizeOperators(arg) };
    case '$elemMatch':
    case '$allMatch':
    case '$keyMapMatch':
      if (!isJsonObject(arg)) throw selectorBadArg(key, arg);
      return { kind: 'nested', operator: key, arg: normalizeOperators(arg) };
    case '$in':
    case '$nin':
    case '$all':
      if (!Array.isArray(arg)) throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg };
    case '$exists':
      if (typeof arg !== 'boolean') throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg };
    case '$type':
      if (typeof arg !== 'string') throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg };
    case '$mod':
      if (!Array.isArray(arg) || arg.length !== 2 || !isErlangInteger(arg[0] as JsonValue) || !isErlangInteger(arg[1] as JsonValue)) {
        throw selectorBadArg(key, arg);
      }
      return { kind: 'condition', operator: key, arg };
    case '$size':
      if (!isErlangInteger(arg) || arg < 0) throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg };
    case '$regex': {
      if (typeof arg !== 'string') break; // CouchDB: no clause matches → "Invalid operator"
      const regex = compilePcre(arg);
      if (regex === undefined) throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg, regex };
    }
    case '$beginsWith':
      if (typeof arg !== 'string') break;
      if (loneSurrogate.test(arg)) throw selectorBadArg(key, arg);
      return { kind: 'condition', operator: key, arg };
    case '$text':
      if (typeof arg === 'string' || typeof arg === 'boolean' || isJsonNumber(arg)) {
        return { kind: 'text', selector: { $default: { $text: arg } } };
      }
      throw selectorBadArg(key, arg);
    case '$default':
      return { kind: 'text', selector: whole };
    default:
      if (anyArgument.has(key)) return { kind: 'condition', operator: key as ConditionOperator, arg };
      if (unsupportedOperators.has(key)) throw selectorNotSupported(key);
  }
  throw selectorInvalidOperator(key);
}

// ---- step 2: fields ---------------------------------------------------------

function normalizeFields(node: SelectorNode, path: string): SelectorNode {
  switch (node.kind) {
    case 'combine':
      return { ...node, args: node.args.map((arg) => normalizeFields(arg, path)) };
    case 'not':
      return { kind: 'not', arg: normalizeFields(node.arg, path) };
    case 'nested':
      return fieldNode(path, { ...node, arg: normalizeFields(node.arg, '') });
    case 'text':
      if (path === '' && isTextSearch(node.selector)) return node;
      throw selectorBadField(node.selector);
    case 'member':
      // Dotted text as CouchDB 3.4 builds it; parsed once complete.
      return normalizeFields(node.cond, path === '' ? node.key : `${path}.${node.key}`);
    case 'empty':
    case 'condition':
      return fieldNode(path, node);
    case 'field':
      return node;
  }
}

function fieldNode(field: string, cond: SelectorNode): SelectorNode {
  return { kind: 'field', field, path: field === '' ? [] : parseFieldPath(field), cond };
}

/** `{"$default":{"$text":…}}` exactly. */
function isTextSearch(selector: JsonObject): boolean {
  const keys = orderedKeys(selector);
  if (keys.length !== 1 || keys[0] !== '$default') return false;
  const inner = selector['$default'];
  return isJsonObject(inner) && orderedKeys(inner).length === 1 && orderedKeys(inner)[0] === '$text';
}

// ---- step 3: negations ------------------------------------------------------

function normalizeNegations(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'not':
      return negate(node.arg);
    case 'combine':
      if (node.operator === '$nor') return { kind: 'combine', operator: '$and', args: node.args.map(negate) };
      return { ...node, args: node.args.map(normalizeNegations) };
    case 'nested':
      return { ...node, arg: normalizeNegations(node.arg) };
    default:
      return node;
  }
}

const negatedOperators: Partial<Record<ConditionOperator, ConditionOperator>> = {
  $lt: '$gte',
  $lte: '$gt',
  $eq: '$ne',
  $ne: '$eq',
  $gte: '$lt',
  $gt: '$lte',
  $in: '$nin',
  $nin: '$in',
};

function negate(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'not':
      return normalizeNegations(node.arg);
    case 'combine':
      if (node.operator === '$nor') return { kind: 'combine', operator: '$or', args: node.args.map(normalizeNegations) };
      return { kind: 'combine', operator: node.operator === '$and' ? '$or' : '$and', args: node.args.map(negate) };
    case 'text':
      throw selectorBadArg('$not', node.selector);
    case 'condition': {
      if (node.operator === '$exists') return { ...node, arg: node.arg !== true };
      const negated = negatedOperators[node.operator];
      return negated === undefined ? { kind: 'not', arg: node } : { kind: 'condition', operator: negated, arg: node.arg };
    }
    case 'field':
      return { ...node, cond: negate(node.cond) };
    default:
      return { kind: 'not', arg: node };
  }
}
