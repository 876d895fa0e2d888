/**
 * The parameters of `_all_docs`, `_design_docs` and `_local_docs`, read as
 * CouchDB's view parser (`couch_mrview_http:parse_params`) reads them: in
 * order, the last occurrence winning; JSON-encoded keys; strict booleans;
 * non-negative integers; then the map-view checks (`reduce`, grouping, `keys`
 * with a key range).
 *
 * `_all_docs` folds over raw document ids, so only *string* keys bound the
 * range: a non-string `startkey` falls back to `startkey_docid`, else no bound
 * (CouchDB's `ad_skey_opts`/`ad_ekey_opts`).
 */
import { badRequest, queryParseError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import type { QueryParams } from './query.js';
import { parseJsonParam, parsePositiveIntegerParam, parseStrictBoolean } from './query.js';

export interface AllDocsParams {
  /** `keys` mode (from the POST body or `?keys=`): rows in request order. */
  readonly keys?: readonly JsonValue[];
  readonly startKey?: string;
  readonly endKey?: string;
  readonly inclusiveEnd: boolean;
  readonly descending: boolean;
  /** Undefined: no limit. */
  readonly limit?: number;
  readonly skip: number;
  readonly includeDocs: boolean;
  readonly conflicts: boolean;
  readonly updateSeq: boolean;
}

interface Collected {
  startKey?: JsonValue;
  endKey?: JsonValue;
  keyRangeGiven: boolean;
  startDocId?: string;
  endDocId?: string;
  queryKeys?: JsonValue;
  inclusiveEnd: boolean;
  descending: boolean;
  limit?: number;
  skip: number;
  includeDocs: boolean;
  conflicts: boolean;
  updateSeq: boolean;
  reduce?: boolean;
  group?: boolean;
  groupLevel?: number;
}

const booleanParams = new Set(['sorted', 'stable', 'att_encoding_info', 'attachments', 'local_seq', 'include_design']);

function collect(query: QueryParams): Collected {
  const out: Collected = {
    keyRangeGiven: false,
    inclusiveEnd: true,
    descending: false,
    skip: 0,
    includeDocs: false,
    conflicts: false,
    updateSeq: false,
  };
  for (const param of query.entries) {
    const value = param.value;
    switch (param.name) {
      case 'key': {
        const key = parseJsonParam(param);
        out.startKey = key;
        out.endKey = key;
        out.keyRangeGiven = true;
        break;
      }
      case 'keys':
        out.queryKeys = parseJsonParam(param);
        break;
      case 'startkey':
      case 'start_key':
        out.startKey = parseJsonParam(param);
        out.keyRangeGiven = true;
        break;
      case 'endkey':
      case 'end_key':
        out.endKey = parseJsonParam(param);
        out.keyRangeGiven = true;
        break;
      case 'startkey_docid':
      case 'start_key_doc_id':
        out.startDocId = value;
        break;
      case 'endkey_docid':
      case 'end_key_doc_id':
        out.endDocId = value;
        break;
      case 'limit':
        out.limit = parsePositiveIntegerParam(value);
        break;
      case 'skip':
        out.skip = parsePositiveIntegerParam(value);
        break;
      case 'descending':
        out.descending = parseStrictBoolean(value);
        break;
      case 'inclusive_end':
        out.inclusiveEnd = parseStrictBoolean(value);
        break;
      case 'include_docs':
        out.includeDocs = parseStrictBoolean(value);
        break;
      case 'conflicts':
        out.conflicts = parseStrictBoolean(value);
        break;
      case 'update_seq':
        out.updateSeq = parseStrictBoolean(value);
        break;
      case 'reduce':
        out.reduce = parseStrictBoolean(value);
        break;
      case 'group':
        out.group = parseStrictBoolean(value);
        break;
      case 'group_level':
        out.groupLevel = parsePositiveIntegerParam(value);
        break;
      case 'stale':
        if (value !== 'ok' && value !== 'update_after') throw queryParseError('Invalid value for `stale`.');
        break;
      case 'update':
        if (value !== 'true' && value !== 'false' && value !== 'lazy') throw queryParseError('Invalid value for `update`.');
        break;
      default:
        if (booleanParams.has(param.name)) parseStrictBoolean(value);
      // unknown parameters are ignored, as in CouchDB
    }
  }
  return out;
}

export interface ParseOptions {
  /** `keys` from a POST body (undefined when the body has none). */
  readonly bodyKeys?: readonly JsonValue[];
}

/** Reads and checks the parameters; throws CouchDB's 400s. */
export function parseAllDocsParams(query: QueryParams, options: ParseOptions = {}): AllDocsParams {
  const collected = collect(query);
  if (collected.reduce === true) throw queryParseError('Reduce is invalid for map-only views.');
  if (collected.group === true || (collected.groupLevel !== undefined && collected.groupLevel > 0)) {
    throw queryParseError('Invalid use of grouping on a map view.');
  }
  let keys: readonly JsonValue[] | undefined = options.bodyKeys;
  if (keys !== undefined) {
    if (keys.length > 0 && collected.keyRangeGiven) {
      throw queryParseError('`keys` is incompatible with `key`, `start_key` and `end_key`');
    }
  } else if (collected.queryKeys !== undefined) {
    // A GET with `keys` silently ignores `key`/`startkey`/`endkey` (CouchDB 3.4.3).
    if (!Array.isArray(collected.queryKeys)) throw badRequest('`keys` parameter must be an array.');
    keys = collected.queryKeys;
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
    conflicts: collected.conflicts,
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
