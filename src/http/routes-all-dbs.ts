/**
 * `/_all_dbs` and `/_dbs_info` (server admins only).
 *
 * Parameters as CouchDB's view parser reads them: `start_key`/`startkey`,
 * `end_key`/`endkey` (JSON), `limit`/`skip` (non-negative integers),
 * `descending`/`inclusive_end` (strict booleans). For repeated parameters the
 * last one wins.
 */
import { badRequest, isCouchError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { isJsonNumber } from '../core/json-value.js';
import type { ListDatabasesOptions } from '../storage/engine.js';
import type { QueryParams } from './query.js';
import { parseJsonParam, parsePositiveIntegerParam, parseStrictBoolean } from './query.js';
import { readJsonObjectBody, requireContentType } from './body.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerAllDbsRoutes(router: Router): void {
  router.addServerRoute('_all_dbs', { allowed: 'GET,HEAD', access: 'server-admin', methods: { GET: allDbs } });
  router.addServerRoute('_dbs_info', { allowed: 'GET,HEAD,POST', access: 'server-admin', methods: { GET: dbsInfoGet, POST: dbsInfoPost } });
}

/** `GET /_dbs_info`: the `_all_dbs` range parameters, each name with its info. */
async function dbsInfoGet(ctx: RequestContext, services: HttpServices): Promise<void> {
  const names = await services.couch.listDatabases(listOptions(ctx.query));
  sendJson(ctx, 200, await describeAll(services, names));
}

/** `POST /_dbs_info {"keys":[…]}`: unknown names answer `{"key":…,"error":"not_found"}`. */
async function dbsInfoPost(ctx: RequestContext, services: HttpServices): Promise<void> {
  requireContentType(ctx);
  const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  const keys = body['keys'];
  if (keys === undefined) throw badRequest('`keys` member must exist.');
  if (!Array.isArray(keys)) throw badRequest('`keys` member must be an array.');
  if (keys.length > services.limits.bulkDocsMax) throw badRequest(`\`keys\` member must have at most ${services.limits.bulkDocsMax} entries.`);
  sendJson(ctx, 200, await describeAll(services, keys));
}

async function describeAll(services: HttpServices, keys: readonly JsonValue[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const key of keys) {
    const info = typeof key === 'string' ? await describe(services, key) : undefined;
    out.push(info === undefined ? { key, error: 'not_found' } : { key, info });
  }
  return out;
}

async function describe(services: HttpServices, name: string): Promise<unknown> {
  try {
    const db = await services.couch.database(name);
    return await db.info();
  } catch (error) {
    if (isCouchError(error) && error.status === 404) return undefined;
    throw error;
  }
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
