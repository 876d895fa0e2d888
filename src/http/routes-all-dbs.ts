/**
 * `/_all_dbs` (server admins only) and the hook for `/_dbs_info`.
 *
 * Parameters as CouchDB's view parser reads them: `start_key`/`startkey`,
 * `end_key`/`endkey` (JSON), `limit`/`skip` (non-negative integers),
 * `descending`/`inclusive_end` (strict booleans). For repeated parameters the
 * last one wins.
 */
import type { JsonValue } from '../core/json-value.js';
import { isJsonNumber } from '../core/json-value.js';
import type { ListDatabasesOptions } from '../storage/engine.js';
import type { QueryParams } from './query.js';
import { parseJsonParam, parsePositiveIntegerParam, parseStrictBoolean } from './query.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerAllDbsRoutes(router: Router): void {
  router.addServerRoute('_all_dbs', { allowed: 'GET,HEAD', access: 'server-admin', methods: { GET: allDbs } });
  // TODO(_dbs_info): needs database info from the db layer. CouchDB: GET takes the
  // `_all_dbs` parameters; POST {"keys": [...]} (415 unless application/json; 400
  // "`keys` member must exist." / "`keys` member must be an array."), answering
  // `[{"key":…,"info":{…}} | {"key":…,"error":"not_found"}]`. Register it here with
  // `allowed: 'GET,HEAD,POST'` and `access: 'server-admin'` once `Couch` can describe a database.
}

async function allDbs(ctx: RequestContext, services: HttpServices): Promise<void> {
  const names = await services.couch.listDatabases(listOptions(ctx.query));
  sendJson(ctx, 200, names);
}

type KeyBound = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'none' } | { readonly kind: 'empty' };

/**
 * Database names are strings; a non-string key bounds them by JSON collation:
 * null, booleans and numbers sort before every string, arrays and objects after.
 */
function keyBound(value: JsonValue, role: 'start' | 'end', descending: boolean): KeyBound {
  if (typeof value === 'string') return { kind: 'key', key: value };
  const beforeStrings = value === null || typeof value === 'boolean' || isJsonNumber(value);
  const isLowerBound = (role === 'start') !== descending;
  if (isLowerBound) return beforeStrings ? { kind: 'none' } : { kind: 'empty' };
  return beforeStrings ? { kind: 'empty' } : { kind: 'none' };
}

function lastParam(query: QueryParams, ...names: string[]): ReturnType<QueryParams['param']> {
  let found: ReturnType<QueryParams['param']>;
  for (const entry of query.entries) if (names.includes(entry.name)) found = entry;
  return found;
}

export function listOptions(query: QueryParams): ListDatabasesOptions & { limit?: number } {
  const descendingParam = lastParam(query, 'descending');
  const descending = descendingParam ? parseStrictBoolean(descendingParam.value) : false;
  const inclusiveParam = lastParam(query, 'inclusive_end');
  const limitParam = lastParam(query, 'limit');
  const skipParam = lastParam(query, 'skip');
  const startParam = lastParam(query, 'start_key', 'startkey');
  const endParam = lastParam(query, 'end_key', 'endkey');
  const options: { -readonly [K in keyof ListDatabasesOptions]: ListDatabasesOptions[K] } = { descending };
  if (inclusiveParam) options.inclusiveEnd = parseStrictBoolean(inclusiveParam.value);
  if (limitParam) options.limit = parsePositiveIntegerParam(limitParam.value);
  if (skipParam) options.skip = parsePositiveIntegerParam(skipParam.value);
  let empty = false;
  if (startParam) {
    const bound = keyBound(parseJsonParam(startParam), 'start', descending);
    if (bound.kind === 'key') options.startKey = bound.key;
    empty ||= bound.kind === 'empty';
  }
  if (endParam) {
    const bound = keyBound(parseJsonParam(endParam), 'end', descending);
    if (bound.kind === 'key') options.endKey = bound.key;
    empty ||= bound.kind === 'empty';
  }
  if (empty) options.limit = 0;
  return options;
}
