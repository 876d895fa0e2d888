/**
 * Design document checks made on every write of a `_design/` document, as
 * CouchDB 3.4's `couch_mrview:validate` makes them (400 `invalid_design_doc`):
 *
 * 1. field types along fixed paths (`views.<any>.map` must be a string, …),
 *    reported with the dotted path (`` `views.v.map` field must have string type ``);
 * 2. every view but `lib` has a `map`;
 * 3. for languages with a query server, reduce functions starting with `_`
 *    must be builtins (`_sum`, `_count`, `_stats`, `_approx_count_distinct`,
 *    matched by prefix as CouchDB does).
 *
 * Compiling map and reduce functions belongs to the views layer.
 */
import { invalidDesignDoc } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { orderedKeys } from '../core/json-order.js';

type FieldType = 'object' | 'string' | 'array' | 'boolean';

/** One step of a path: a member name, or every member (`any`). */
interface FieldStep {
  readonly key: string | typeof anyMember;
  readonly types: readonly FieldType[];
}

const anyMember = Symbol('any member');

const step = (key: string | typeof anyMember, ...types: FieldType[]): FieldStep => ({ key, types });

function checkedPaths(mapType: FieldType): readonly (readonly FieldStep[])[] {
  return [
    [step('filters', 'object'), step(anyMember, 'object', 'string')],
    [step('language', 'string')],
    [step('lists', 'object'), step(anyMember, 'object', 'string')],
    [step('options', 'object')],
    [step('options', 'object'), step('include_design', 'boolean')],
    [step('options', 'object'), step('local_seq', 'boolean')],
    [step('options', 'object'), step('partitioned', 'boolean')],
    [step('rewrites', 'string', 'array')],
    [step('shows', 'object'), step(anyMember, 'object', 'string')],
    [step('updates', 'object'), step(anyMember, 'object', 'string')],
    [step('validate_doc_update', 'string')],
    [step('views', 'object'), step('lib', 'object')],
    [step('views', 'object'), step(anyMember, 'object'), step('map', mapType)],
    [step('views', 'object'), step(anyMember, 'object'), step('reduce', 'string')],
  ];
}

/** Languages whose query server exists; design docs in others are stored unchecked beyond field types. */
const languagesWithQueryServer = new Set(['javascript', 'query']);
const builtinReducePrefixes = ['_sum', '_count', '_stats', '_approx_count_distinct'];

/** Throws 400 `invalid_design_doc` when `body` (the document without special members) is not a valid design document. */
export function validateDesignDoc(body: JsonObject): void {
  const language = body['language'];
  const mapType: FieldType = language === 'query' ? 'object' : 'string';
  for (const path of checkedPaths(mapType)) {
    const failure = checkPath(body, path, []);
    if (failure !== undefined) {
      throw invalidDesignDoc(`\`${failure.path.join('.')}\` field must have ${failure.types.join(' or ')} type`);
    }
  }
  const views = body['views'];
  if (!isJsonObject(views)) return;
  for (const name of orderedKeys(views)) {
    if (name === 'lib') continue;
    const view = views[name];
    if (isJsonObject(view) && view['map'] === undefined) throw invalidDesignDoc(`View \`${name}\` must contain map function`);
  }
  const effectiveLanguage = typeof language === 'string' ? language : 'javascript';
  if (!languagesWithQueryServer.has(effectiveLanguage)) return;
  for (const name of orderedKeys(views)) {
    const view = views[name];
    const reduce = isJsonObject(view) ? view['reduce'] : undefined;
    if (typeof reduce !== 'string' || !reduce.startsWith('_')) continue;
    if (!builtinReducePrefixes.some((prefix) => reduce.startsWith(prefix))) {
      throw invalidDesignDoc(`\`${reduce}\` is not a supported reduce function.`);
    }
  }
}

interface PathFailure {
  readonly path: readonly string[];
  readonly types: readonly FieldType[];
}

function checkPath(value: JsonValue | undefined, path: readonly FieldStep[], trail: readonly string[]): PathFailure | undefined {
  const [first, ...rest] = path;
  if (first === undefined || !isJsonObject(value)) return undefined;
  if (first.key === anyMember) {
    for (const key of orderedKeys(value)) {
      const failure = checkPath(value, [{ key, types: first.types }, ...rest], trail);
      if (failure !== undefined) return failure;
    }
    return undefined;
  }
  const member = value[first.key];
  const here = [...trail, first.key];
  if (member !== undefined && !first.types.some((type) => hasType(member, type))) return { path: here, types: first.types };
  return checkPath(member, rest, here);
}

function hasType(value: JsonValue, type: FieldType): boolean {
  switch (type) {
    case 'object':
      return isJsonObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
  }
}
