/**
 * Reading view parameters from a request, as CouchDB's
 * `couch_mrview_http:parse_params` reads them, for views and `_all_docs`
 * alike: in order, the last occurrence winning; JSON-encoded keys; strict
 * booleans; non-negative integers; `stale` and `update` checked on sight.
 * Unknown parameters are ignored.
 *
 * A POST body's members are read first, as already-decoded values (`"key":
 * "a"`, `"limit": 2`), then the query string on top of them. What the values
 * mean for a particular view is decided by `views/params.ts`.
 */
import { queryParseError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { orderedKeys } from '../core/json-order.js';
import { stringifyJson } from '../core/json-write.js';
import type { ViewParamsInput } from '../views/params.js';
import type { QueryParam, QueryParams } from './query.js';
import { parseJsonParam, parsePositiveIntegerParam, parseStrictBoolean } from './query.js';

/** One parameter: from the query string (text), or from a POST body (a decoded JSON value). */
type ParamEntry =
  | { readonly from: 'query'; readonly name: string; readonly param: QueryParam }
  | { readonly from: 'body'; readonly name: string; readonly value: JsonValue };

export interface CollectOptions {
  /** POST body members, read before the query string. */
  readonly body?: JsonObject;
  /**
   * Views turn a `keys` of exactly one key into `key` (CouchDB does so for
   * views); `_all_docs` keeps it a keys query.
   */
  readonly singleKeyAsKey?: boolean;
}

const booleanParams = new Set(['sorted', 'stable', 'att_encoding_info', 'attachments', 'local_seq', 'include_design']);

function entriesOf(query: QueryParams, body: JsonObject | undefined): ParamEntry[] {
  const entries: ParamEntry[] = [];
  if (body !== undefined) {
    for (const name of orderedKeys(body)) entries.push({ from: 'body', name, value: body[name] as JsonValue });
  }
  for (const param of query.entries) entries.push({ from: 'query', name: param.name, param });
  return entries;
}

function jsonOf(entry: ParamEntry): JsonValue {
  return entry.from === 'body' ? entry.value : parseJsonParam(entry.param);
}

function textOf(entry: ParamEntry): string {
  if (entry.from === 'query') return entry.param.value;
  return typeof entry.value === 'string' ? entry.value : stringifyJson(entry.value);
}

/** Reads every parameter; throws CouchDB's 400s for malformed values. */
export function collectViewParams(query: QueryParams, options: CollectOptions = {}): ViewParamsInput {
  const out: ViewParamsInput = {
    keyRangeGiven: false,
    inclusiveEnd: true,
    descending: false,
    skip: 0,
    includeDocs: false,
    updateSeq: false,
    update: 'true',
  };
  for (const entry of entriesOf(query, options.body)) {
    const text = (): string => textOf(entry);
    switch (entry.name) {
      case 'key': {
        const key = jsonOf(entry);
        out.startKey = key;
        out.endKey = key;
        out.keyRangeGiven = true;
        break;
      }
      case 'keys': {
        const keys = jsonOf(entry);
        if (options.singleKeyAsKey === true && Array.isArray(keys) && keys.length === 1) {
          out.startKey = keys[0] as JsonValue;
          out.endKey = keys[0] as JsonValue;
        } else {
          out.keys = keys;
        }
        break;
      }
      case 'startkey':
      case 'start_key':
        out.startKey = jsonOf(entry);
        out.keyRangeGiven = true;
        break;
      case 'endkey':
      case 'end_key':
        out.endKey = jsonOf(entry);
        out.keyRangeGiven = true;
        break;
      case 'startkey_docid':
      case 'start_key_doc_id':
        out.startDocId = text();
        break;
      case 'endkey_docid':
      case 'end_key_doc_id':
        out.endDocId = text();
        break;
      case 'limit':
        out.limit = parsePositiveIntegerParam(text());
        break;
      case 'skip':
        out.skip = parsePositiveIntegerParam(text());
        break;
      case 'descending':
        out.descending = parseStrictBoolean(text());
        break;
      case 'inclusive_end':
        out.inclusiveEnd = parseStrictBoolean(text());
        break;
      case 'include_docs':
        out.includeDocs = parseStrictBoolean(text());
        break;
      case 'conflicts':
        out.conflicts = parseStrictBoolean(text());
        break;
      case 'update_seq':
        out.updateSeq = parseStrictBoolean(text());
        break;
      case 'reduce':
        out.reduce = parseStrictBoolean(text());
        break;
      case 'group':
        out.group = parseStrictBoolean(text());
        break;
      case 'group_level':
        out.groupLevel = parsePositiveIntegerParam(text());
        break;
      case 'stale': {
        const value = text();
        if (value === 'ok') out.update = 'false';
        else if (value === 'update_after') out.update = 'lazy';
        else throw queryParseError('Invalid value for `stale`.');
        break;
      }
      case 'update': {
        const value = text();
        if (value !== 'true' && value !== 'false' && value !== 'lazy') throw queryParseError('Invalid value for `update`.');
        out.update = value;
        break;
      }
      default:
        if (booleanParams.has(entry.name)) parseStrictBoolean(text());
      // unknown parameters are ignored, as in CouchDB
    }
  }
  return out;
}
