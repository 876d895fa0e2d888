/**
 * `_changes?filter=`: CouchDB's `couch_changes:configure_filter`, with its
 * error texts. Built in here: `_doc_ids` (ids from `doc_ids` in a POST body
 * or a JSON `doc_ids` query parameter), `_design` and `_selector` (a Mango
 * selector in the POST body, matched against each change's winning revision,
 * or every leaf with `style=all_docs`). `_view` and JavaScript filters
 * (`ddoc/name`) are validated exactly as CouchDB does (so request errors
 * match) and then answered 501 until views and the JavaScript sandbox land.
 */
import { badRequest, isCouchError, notFound, notImplemented } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { Database } from '../db/database.js';
import { parseSelector } from '../query/selector.js';
import { matchingRevs } from '../query/selector-changes.js';
import type { Selector } from '../query/selector.js';
import type { DocRecord } from '../storage/engine.js';
import type { ChangesStyle } from './changes-params.js';
import { parseJsonText } from './json.js';
import { jsonParam } from './query.js';
import type { QueryParams } from './query.js';

export type FeedFilter =
  | { readonly kind: 'all' }
  | { readonly kind: 'doc_ids'; readonly ids: readonly string[] }
  | { readonly kind: 'design' }
  | { readonly kind: 'selector'; readonly selector: Selector };

export interface FilterRequest {
  /** The effective method: `POST` reads `doc_ids`/`selector` from the body. */
  readonly method: string;
  readonly query: QueryParams;
  /** The POST body (an empty body is `{}`). */
  readonly body: JsonObject | undefined;
}

const docIdsError = '`doc_ids` filter parameter is not a list of doc ids.';

export async function resolveFilter(name: string, request: FilterRequest, db: Database): Promise<FeedFilter> {
  if (name === '') return { kind: 'all' };
  if (name === '_doc_ids') return { kind: 'doc_ids', ids: docIds(request) };
  if (name === '_design') return { kind: 'design' };
  if (name === '_selector') {
    if (request.method !== 'POST') throw badRequest('Selector must be specified in POST payload');
    const selector = request.body?.['selector'];
    if (!isJsonObject(selector)) throw badRequest('Selector error: expected a JSON object');
    return { kind: 'selector', selector: changesSelector(selector) };
  }
  if (name === '_view') {
    const view = request.query.get('view');
    if (view === undefined) throw badRequest('`view` filter parameter is not provided.');
    const parts = nameParts(view);
    if (parts === undefined) throw badRequest('`view` must be of the form `designname/viewname`');
    await requireDesignMember(db, parts.design, ['views', parts.member]);
    throw notImplemented('The `_view` changes filter is not supported yet.');
  }
  if (name.startsWith('_')) throw badRequest('unknown builtin filter name');
  const parts = nameParts(name);
  if (parts === undefined) throw badRequest('`filter` must be of the form `designname/filtername`');
  await requireDesignMember(db, parts.design, ['filters', parts.member]);
  throw notImplemented('JavaScript changes filters are not supported yet.');
}

/** `couch_changes:check_selector`: Mango's errors become 400 `bad_request` with the same reason. */
function changesSelector(source: JsonObject): Selector {
  try {
    return parseSelector(source);
  } catch (error) {
    if (isCouchError(error) && error.status === 400) throw badRequest(error.reason);
    throw error;
  }
}

/**
 * For a `_selector` feed, the revisions of `record` that match: the winner,
 * or with `all_docs` every leaf (CouchDB lists only the matching ones). An
 * empty list skips the row. Undefined for every other filter.
 */
export async function selectedRevs(
  db: Database,
  filter: FeedFilter,
  record: DocRecord,
  style: ChangesStyle,
): Promise<readonly string[] | undefined> {
  if (filter.kind !== 'selector') return undefined;
  return matchingRevs(db, filter.selector, record, style);
}

function docIds(request: FilterRequest): string[] {
  const value: JsonValue | undefined =
    request.method === 'POST' ? request.body?.['doc_ids'] : (jsonParam(request.query, 'doc_ids') ?? null);
  if (!Array.isArray(value) || !value.every((id): id is string => typeof id === 'string')) throw badRequest(docIdsError);
  return [...new Set(value)];
}

/** `a/b` (empty segments dropped, as Erlang's `string:tokens`) → design and member names. */
function nameParts(text: string): { design: string; member: string } | undefined {
  const tokens = text.split('/').filter((token) => token.length > 0);
  if (tokens.length !== 2) return undefined;
  return { design: tokens[0] as string, member: tokens[1] as string };
}

/** Opens `_design/{design}` (404 missing/deleted) and walks `path` in its body ("missing json key: …"). */
async function requireDesignMember(db: Database, design: string, path: readonly string[]): Promise<void> {
  const doc = await db.getDoc(`_design/${design}`);
  let node: JsonValue = parseJsonText(doc.bodyJson);
  for (const key of path) {
    if (!isJsonObject(node)) throw notFound('json_mismatch');
    const next: JsonValue | undefined = node[key];
    if (next === undefined || next === null) throw notFound(`missing json key: ${key}`);
    node = next;
  }
}
