/**
 * The parameters of `_all_docs`, `_design_docs` and `_local_docs`, read by
 * the view parameter reader (`view-params.ts`, as CouchDB's view parser
 * reads them), then the map-view checks (`reduce`, grouping, `keys` with a
 * key range).
 *
 * `_all_docs` folds over raw document ids, so only *string* keys bound the
 * range: a non-string `startkey` falls back to `startkey_docid`, else no bound
 * (CouchDB's `ad_skey_opts`/`ad_ekey_opts`).
 */
import { badRequest, queryParseError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import type { QueryParams } from './query.js';
import type { RowQueryOptions } from '../views/params.js';
import { collectViewParams } from './view-params.js';

export interface AllDocsParams extends RowQueryOptions {
  /** `keys` mode (from the POST body or `?keys=`): rows in request order. */
  readonly keys?: readonly JsonValue[];
  readonly startKey?: string;
  readonly endKey?: string;
}

export interface ParseOptions {
  /** `keys` from a POST body (undefined when the body has none). */
  readonly bodyKeys?: readonly JsonValue[];
}

/** Reads and checks the parameters; throws CouchDB's 400s. */
export function parseAllDocsParams(query: QueryParams, options: ParseOptions = {}): AllDocsParams {
  const collected = collectViewParams(query);
  if (collected.reduce === true) throw queryParseError('Reduce is invalid for map-only views.');
  if (collected.group === true || (collected.groupLevel !== undefined && collected.groupLevel > 0)) {
    throw queryParseError('Invalid use of grouping on a map view.');
  }
  let keys: readonly JsonValue[] | undefined = options.bodyKeys;
  if (keys !== undefined) {
    if (keys.length > 0 && collected.keyRangeGiven) {
      throw queryParseError('`keys` is incompatible with `key`, `start_key` and `end_key`');
    }
  } else if (collected.keys !== undefined) {
    // A GET with `keys` silently ignores `key`/`startkey`/`endkey` (CouchDB 3.4.3).
    if (!Array.isArray(collected.keys)) throw badRequest('`keys` parameter must be an array.');
    keys = collected.keys;
  }
  const startKey = typeof collected.startKey === 'string' ? collected.startKey : collected.startDocId;
  const endKey = typeof collected.endKey === 'string' ? collected.endKey : collected.endDocId;
  return {
    ...(keys !== undefined ? { keys } : {}),
    ...(startKey !== undefined ? { startKey } : {}),
    ...(endKey !== undefined ? { endKey } : {}),
    inclusiveEnd: collected.inclusiveEnd,
    descending: collected.descending,
    ...(collected.limit !== undefined ? { limit: collected.limit } : {}),
    skip: collected.skip,
    includeDocs: collected.includeDocs,
    conflicts: collected.conflicts ?? false,
    updateSeq: collected.updateSeq,
  };
}

/** The range of a namespace, intersected with the requested one (`_design_docs`: `_design/` ≤ id < `_design0`). */
export function clampToNamespace(
  params: AllDocsParams,
  first: string,
  afterLast: string,
): Pick<AllDocsParams, 'startKey' | 'endKey' | 'inclusiveEnd'> {
  if (!params.descending) {
    const startKey = params.startKey === undefined || params.startKey < first ? first : params.startKey;
    if (params.endKey === undefined || params.endKey >= afterLast) return { startKey, endKey: afterLast, inclusiveEnd: false };
    return { startKey, endKey: params.endKey, inclusiveEnd: params.inclusiveEnd };
  }
  const startKey = params.startKey === undefined || params.startKey > afterLast ? afterLast : params.startKey;
  if (params.endKey === undefined || params.endKey <= first) return { startKey, endKey: first, inclusiveEnd: true };
  return { startKey, endKey: params.endKey, inclusiveEnd: params.inclusiveEnd };
}
