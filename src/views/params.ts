/**
 * View query parameters, checked against the view as CouchDB 3.4's
 * `couch_mrview_util:validate_args` and `check_range` check them. The http
 * layer reads the request into a `ViewParamsInput` (query string and POST
 * body alike, see `http/view-params.ts`); this module decides what the query
 * means for a given view and throws CouchDB's 400 `query_parse_error`s, in
 * CouchDB's order:
 *
 * 1. `reduce=true` on a map-only view;
 * 2. `group=false` with `group_level>0`; `keys` (several) on a reduce without `group=true`;
 * 3. `keys` that is not an array, `keys` together with `key`/`start_key`/`end_key`;
 * 4. grouping on a map view (or with `reduce=false`), `include_docs` or
 *    `conflicts` on a reduce;
 * 5. a key range that can match nothing (`start_key` after `end_key`): this
 *    one carries a `ref` member, as CouchDB's does.
 *
 * A one-element `keys` was already turned into `key` by the reader, as
 * CouchDB does; several keys run one range each, in request order (reversed
 * when descending).
 *
 * Document-id bounds follow CouchDB: `start_key_docid`/`end_key_docid` are
 * raw strings (not JSON), compared by code point; a missing one means "every
 * id" at that end, and `inclusive_end=false` excludes the end key's rows
 * whatever their id unless `end_key_docid` is given.
 */
import { CouchError, queryParseError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import { type DocIdBound, compareBoundIds, docIdMax, docIdMin } from './row-order.js';
import { collateJson } from '../core/collation.js';

/** What the request asked for, parsed but not yet checked against the view. */
export interface ViewParamsInput {
  startKey?: JsonValue;
  endKey?: JsonValue;
  /** `key`, `startkey`/`start_key` or `endkey`/`end_key` appeared (`_all_docs` uses this). */
  keyRangeGiven: boolean;
  startDocId?: string;
  endDocId?: string;
  /** The last `keys` holding other than exactly one key (not yet checked to be an array). */
  keys?: JsonValue;
  inclusiveEnd: boolean;
  descending: boolean;
  limit?: number;
  skip: number;
  includeDocs: boolean;
  conflicts?: boolean;
  updateSeq: boolean;
  reduce?: boolean;
  group?: boolean;
  groupLevel?: number;
  /** `update` (or `stale`): `false`/`ok` answers from the index as it is, `lazy` updates after answering. */
  update: ViewUpdateMode;
}

export type ViewUpdateMode = 'true' | 'false' | 'lazy';

/** `exact`: one group per distinct key (`group=true`); a number: keys (arrays) cut to that many elements. */
export type GroupLevel = number | 'exact';

/** What view queries and `_all_docs` share: direction, paging and what each row carries. */
export interface RowQueryOptions {
  readonly inclusiveEnd: boolean;
  readonly descending: boolean;
  /** Undefined: no limit. */
  readonly limit?: number;
  readonly skip: number;
  readonly includeDocs: boolean;
  readonly conflicts: boolean;
  readonly updateSeq: boolean;
}

export interface ViewQuery extends RowQueryOptions {
  /** Rows are reduced (the view has a reduce and `reduce=false` was not asked). */
  readonly reduce: boolean;
  readonly groupLevel: GroupLevel;
  /** Several keys (or none: no rows): one range per key, in answer order (already reversed when descending). */
  readonly keys?: readonly JsonValue[];
  readonly startKey?: JsonValue;
  readonly endKey?: JsonValue;
  readonly startDocId: DocIdBound;
  readonly endDocId: DocIdBound;
  readonly update: ViewUpdateMode;
}

/** CouchDB's `ref` (a stack hash in CouchDB) of the one 400 that carries one: any stable number does. */
const keyRangeErrorRef = 3865780518;

function keyRangeError(suggestion: 'true' | 'false'): CouchError {
  return new CouchError(
    400,
    'query_parse_error',
    `No rows can match your key range, reverse your start_key and end_key or set descending=${suggestion}`,
    { ref: keyRangeErrorRef },
  );
}

/** Checks `input` for a view with (`hasReduce`) or without a reduce function; throws CouchDB's 400s. */
export function validateViewQuery(input: ViewParamsInput, options: { readonly hasReduce: boolean }): ViewQuery {
  if (!options.hasReduce && input.reduce === true) throw queryParseError('Reduce is invalid for map-only views.');
  const reduce = options.hasReduce && input.reduce !== false;
  const groupLevel = determineGroupLevel(input);
  if (reduce && groupLevel !== 'exact' && Array.isArray(input.keys)) {
    throw queryParseError('Multi-key fetches for reduce views must use `group=true`');
  }
  if (input.keys !== undefined && !Array.isArray(input.keys)) throw queryParseError('`keys` must be an array of strings.');
  const keys = input.keys as readonly JsonValue[] | undefined;
  if (keys !== undefined && keys.length > 0 && (input.startKey !== undefined || input.endKey !== undefined)) {
    throw queryParseError('`keys` is incompatible with `key`, `start_key` and `end_key`');
  }
  if (!reduce && groupLevel !== 0) throw queryParseError('Invalid use of grouping on a map view.');
  if (reduce && input.includeDocs) throw queryParseError('`include_docs` is invalid for reduce');
  if (reduce && input.conflicts !== undefined) throw queryParseError('`conflicts` is invalid for reduce views.');
  const descending = input.descending;
  const query: ViewQuery = {
    reduce,
    groupLevel,
    ...(keys !== undefined ? { keys: descending ? [...keys].reverse() : keys } : {}),
    ...(input.startKey !== undefined ? { startKey: input.startKey } : {}),
    ...(input.endKey !== undefined ? { endKey: input.endKey } : {}),
    startDocId: input.startDocId ?? (descending ? docIdMax : docIdMin),
    endDocId: input.endDocId ?? (descending ? docIdMin : docIdMax),
    inclusiveEnd: input.inclusiveEnd,
    descending,
    ...(input.limit !== undefined ? { limit: input.limit } : {}),
    skip: input.skip,
    includeDocs: input.includeDocs,
    conflicts: input.conflicts ?? false,
    updateSeq: input.updateSeq,
    update: input.update,
  };
  checkRange(query);
  return query;
}

function determineGroupLevel(input: ViewParamsInput): GroupLevel {
  if (input.group === false && input.groupLevel !== undefined && input.groupLevel > 0) {
    throw queryParseError("Can't specify group=false and group_level>0 at the same time");
  }
  if (input.groupLevel !== undefined) return input.groupLevel;
  return input.group === true ? 'exact' : 0;
}

/** CouchDB's `check_range`: a range whose start sorts after its end (in the query's direction) is an error. */
function checkRange(query: ViewQuery): void {
  const { startKey, endKey } = query;
  if (startKey === undefined || endKey === undefined) return;
  if (stringifyJson(startKey) === stringifyJson(endKey)) return; // the same term: `key=`
  const order = collateJson(startKey, endKey);
  const startBeforeEnd = order < 0 || (order === 0 && compareBoundIds(query.startDocId, query.endDocId) < 0);
  if (!query.descending && !startBeforeEnd) throw keyRangeError('true');
  if (query.descending && startBeforeEnd) throw keyRangeError('false');
}
