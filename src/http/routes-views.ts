/**
 * View queries and view index information:
 *
 *   GET/HEAD/POST /{db}/_design/{ddoc}/_view/{view}   map or reduce rows
 *   GET           /{db}/_design/{ddoc}/_info          `view_index` of the design document
 *
 * A query reads the design document (404 `missing`/`deleted`), its
 * parameters (POST body members first, then the query string), the view
 * (404 `missing_named_view`), checks the parameters against it
 * (`views/params.ts`), brings the in-memory index up to date (as `update`
 * asks) and streams the rows in CouchDB's framing: map rows
 * `{"total_rows":N,"offset":O,"rows":[…]}` with `id`, `key`, `value` (and
 * `doc` with `include_docs`), reduce rows `{"rows":[…]}` with `key` and
 * `value`. Every error that can be known before the first row is answered as
 * a clean error response.
 *
 * `include_docs` follows CouchDB: a row whose value is an object with a
 * string `_id` includes that document (at `_rev` if the value names one)
 * instead of the emitting one; a missing or deleted document is `null`.
 */
import { badRequest, internalError, notFound } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { parseJson } from '../core/json-parse.js';
import { parseRev } from '../core/rev.js';
import type { Database } from '../db/database.js';
import { renderDoc } from '../db/render.js';
import type { DocRecord } from '../storage/engine.js';
import { type DesignDefinition, type ViewDefinition, readDesign, supportedLanguage } from '../views/design.js';
import { type ViewQuery, validateViewQuery } from '../views/params.js';
import { answerMap, answerReduce } from '../views/query.js';
import type { ViewRow } from '../views/row-order.js';
import type { ViewIndex } from '../views/view-index.js';
import { readJsonObjectBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import { stringifyJsonValue } from './json.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import { RowStream, viewRowsHead, viewRowsSeparator, viewRowsTail } from './row-stream.js';
import type { HttpServices } from './services.js';
import { collectViewParams } from './view-params.js';

export function registerViewRoutes(router: Router): void {
  router.addDesignEndpoint('_view', {
    allowed: 'GET,POST,HEAD',
    methods: {
      GET: (ctx, services) => queryView(ctx, services, 'GET'),
      POST: (ctx, services) => queryView(ctx, services, 'POST'),
    },
  });
  router.addDesignEndpoint('_info', { allowed: 'GET', methods: { GET: designInfo } });
}


async function readPostBody(ctx: RequestContext, services: HttpServices): Promise<JsonObject> {
  requireContentType(ctx);
  const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  if (body['queries'] !== undefined) throw badRequest('The `queries` parameter is no longer supported at this endpoint');
  if (body['keys'] !== undefined && !Array.isArray(body['keys'])) throw badRequest('`keys` member must be an array.');
  return body;
}

/** The design document `_design/{name}` of `db`, read as view definitions (404 when missing or deleted). */
async function readDesignDoc(db: Database, name: string): Promise<DesignDefinition> {
  const docId = `_design/${name}`;
  const doc = await db.getDoc(docId);
  const body = parseJson(doc.bodyJson);
  return readDesign(docId, isJsonObject(body) ? body : {});
}

/** In CouchDB's order: the database, the design document, the POST body, the parameters, the view, their fit. */
async function queryView(ctx: RequestContext, services: HttpServices, method: 'GET' | 'POST'): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const [, , designName, , viewName, ...rest] = ctx.segments;
  if (viewName === undefined || rest.length > 0) throw notFound('missing');
  const design = await readDesignDoc(db, designName ?? '');
  const body = method === 'POST' ? await readPostBody(ctx, services) : undefined;
  const input = collectViewParams(ctx.query, { ...(body !== undefined ? { body } : {}), singleKeyAsKey: true });
  const view = design.views.get(viewName);
  if (view === undefined) throw notFound('missing_named_view');
  const query = validateViewQuery(input, { hasReduce: view.reduce !== undefined });
  if (design.language !== supportedLanguage) throw internalError('unknown_query_language', design.language);
  const index = await services.views.open(db, design, query.update);
  if (query.reduce) await streamReduce(ctx, index, view, query);
  else await streamMap(ctx, db, index, view, query, services.limits.scanBatchRowsMax);
}

function seqMeta(query: ViewQuery, index: ViewIndex): Record<string, unknown> {
  return query.updateSeq ? { update_seq: index.updateSeq } : {};
}

async function streamReduce(ctx: RequestContext, index: ViewIndex, view: ViewDefinition, query: ViewQuery): Promise<void> {
  const reducer = index.reducer(view);
  if (reducer === undefined) throw new Error('assertion failed: a reduce query on a view without reduce');
  const rows = answerReduce(index.rows(view), query, reducer)[Symbol.iterator]();
  // The first reduction runs before the response starts, so its errors are clean error responses.
  let next = rows.next();
  const stream = await RowStream.start(ctx, { head: viewRowsHead(seqMeta(query, index)), separator: viewRowsSeparator });
  for (; !next.done; next = rows.next()) {
    const row = `{"key":${stringifyJsonValue(next.value.key)},"value":${stringifyJsonValue(next.value.value)}}`;
    if (!(await stream.row(row))) return;
  }
  await stream.end(viewRowsTail);
}

async function streamMap(
  ctx: RequestContext,
  db: Database,
  index: ViewIndex,
  view: ViewDefinition,
  query: ViewQuery,
  pageRowsMax: number,
): Promise<void> {
  const answer = answerMap(index.rows(view), query);
  const head = viewRowsHead({ total_rows: answer.totalRows, offset: answer.offset, ...seqMeta(query, index) });
  const stream = await RowStream.start(ctx, { head, separator: viewRowsSeparator });
  let page: ViewRow[] = [];
  const flush = async (): Promise<boolean> => {
    const docs = query.includeDocs ? await includedDocs(db, page, query.conflicts) : undefined;
    for (const [i, row] of page.entries()) {
      let text = `{"id":${stringifyJsonValue(row.id)},"key":${stringifyJsonValue(row.key)},"value":${stringifyJsonValue(row.value)}`;
      if (docs !== undefined) text += `,"doc":${docs[i] ?? 'null'}`;
      if (!(await stream.row(`${text}}`))) return false;
    }
    page = [];
    return true;
  };
  for (const row of answer.rows) {
    page.push(row);
    if (page.length >= pageRowsMax && !(await flush())) return;
  }
  if (!(await flush())) return;
  await stream.end(viewRowsTail);
}

/** The document a row includes: the emitting one, or the one its value links to. */
function linkedDoc(row: ViewRow): { readonly id: string; readonly rev?: string } {
  const value: JsonValue = row.value;
  if (isJsonObject(value) && typeof value['_id'] === 'string') {
    const rev = value['_rev'];
    return typeof rev === 'string' ? { id: value['_id'], rev } : { id: value['_id'] };
  }
  return { id: row.id };
}

/** JSON text of each row's included document (null where missing or deleted), read in one batch. */
async function includedDocs(db: Database, rows: readonly ViewRow[], conflicts: boolean): Promise<(string | null)[]> {
  const targets = rows.map(linkedDoc);
  const ids = [...new Set(targets.filter((target) => target.rev === undefined).map((target) => target.id))];
  const records = await db.records(ids, { withWinningBodies: true });
  const byId = new Map<string, DocRecord>();
  ids.forEach((id, i) => {
    const record = records[i];
    if (record !== undefined && !record.deleted) byId.set(id, record);
  });
  const rendered = new Map<string, string>();
  const docs: (string | null)[] = [];
  for (const target of targets) {
    if (target.rev !== undefined) {
      docs.push(await docAtRev(db, target.id, target.rev));
      continue;
    }
    let text = rendered.get(target.id);
    const record = byId.get(target.id);
    if (text === undefined && record !== undefined) {
      text = renderDoc(await db.readRecord(record, { conflicts }));
      rendered.set(target.id, text);
    }
    docs.push(text ?? null);
  }
  return docs;
}

async function docAtRev(db: Database, id: string, rev: string): Promise<string | null> {
  try {
    const doc = await db.getDoc(id, { rev: parseRev(rev) });
    return doc.deleted ? null : renderDoc(doc);
  } catch {
    return null; // a malformed or unknown revision includes nothing, as in CouchDB
  }
}

async function designInfo(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const name = ctx.segments[2] ?? '';
  const design = await readDesignDoc(db, name);
  const info = await db.store.info();
  const index = services.views.peek(info.uuid, design);
  sendJson(ctx, 200, {
    name,
    view_index: {
      updates_pending: { minimum: 0, preferred: 0, total: 0 },
      waiting_commit: false,
      waiting_clients: 0,
      updater_running: false,
      update_seq: index?.updateSeq ?? 0,
      sizes: { file: 0, external: 0, active: 0 },
      signature: design.signature,
      purge_seq: index?.purgeSeq ?? 0,
      language: design.language,
      compact_running: false,
      collator_versions: [],
    },
  });
}
