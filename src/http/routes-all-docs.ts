/**
 * `_all_docs`, `_design_docs` and `_local_docs` (GET/HEAD, and POST with a
 * `keys` body). Rows are streamed page by page (`scanBatchRowsMax` records at
 * a time) in CouchDB's framing: `{"total_rows":N,"offset":M,"rows":[\r\n`,
 * rows joined by `,\r\n`, `\r\n]}\n`.
 *
 * - range mode: live documents in raw id order; `offset` is the number of live
 *   documents before the start plus `skip`, capped at `total_rows` (so
 *   `_design_docs` reports at most its design-doc count, as CouchDB does);
 * - keys mode: one row per requested key, in request order (reversed when
 *   descending, then `skip`/`limit`), `"offset":null`, deleted documents as
 *   `"value":{"rev":…,"deleted":true}` and `"doc":null`, unknown or non-string
 *   keys as `{"key":…,"error":"not_found"}`;
 * - `_local_docs` reports `"total_rows":null,"offset":null`.
 */
import { badRequest, notAServerAdmin } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { isServerAdmin } from '../auth/user-ctx.js';
import type { Database } from '../db/database.js';
import { renderLocal } from '../db/local-docs.js';
import { isLocalId } from '../db/names.js';
import { renderDoc } from '../db/render.js';
import type { DocRecord, LocalDoc } from '../storage/engine.js';
import { readJsonObjectBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import { stringifyJsonValue } from './json.js';
import type { RequestContext } from './request.js';
import type { Router } from './router.js';
import { RowStream, viewRowsHead, viewRowsSeparator, viewRowsTail } from './row-stream.js';
import type { HttpServices } from './services.js';
import type { AllDocsParams } from './routes-all-docs-query.js';
import { clampToNamespace, parseAllDocsParams } from './routes-all-docs-query.js';

type Namespace = 'all' | 'design' | 'local';

export function registerAllDocsRoutes(router: Router): void {
  for (const [endpoint, namespace] of [
    ['_all_docs', 'all'],
    ['_design_docs', 'design'],
    ['_local_docs', 'local'],
  ] as const) {
    router.addDatabaseEndpoint(endpoint, {
      allowed: 'GET,HEAD,POST',
      methods: {
        GET: (ctx, services) => allDocs(ctx, services, namespace, 'GET'),
        POST: (ctx, services) => allDocs(ctx, services, namespace, 'POST'),
      },
    });
  }
}

/** `_users` lists its documents to server admins only (its members would see every user). */
function isUsersDb(name: string): boolean {
  return name === '_users' || name.endsWith('/_users');
}

async function allDocs(ctx: RequestContext, services: HttpServices, namespace: Namespace, method: 'GET' | 'POST'): Promise<void> {
  if (isUsersDb(ctx.segments[0] ?? '') && !isServerAdmin(ctx.user)) throw notAServerAdmin();
  const { db } = await openDatabase(ctx, services, 'member');
  let bodyKeys: readonly JsonValue[] | undefined;
  if (method === 'POST') {
    requireContentType(ctx);
    const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
    const keys = body['keys'];
    if (keys !== undefined) {
      if (!Array.isArray(keys)) throw badRequest('`keys` body member must be an array.');
      bodyKeys = keys;
    }
  }
  const params = parseAllDocsParams(ctx.query, bodyKeys === undefined ? {} : { bodyKeys });
  const pageSize = services.limits.scanBatchRowsMax;
  if (namespace === 'local') {
    await (params.keys !== undefined ? localKeys(ctx, db, params, params.keys) : localRange(ctx, db, params, pageSize));
    return;
  }
  if (params.keys !== undefined) await docKeys(ctx, db, params, params.keys, pageSize);
  else await docRange(ctx, db, params, namespace, pageSize);
}

function headFor(params: AllDocsParams, db: Database, totalRows: number | null, offset: number | null): string {
  const meta: Record<string, unknown> = { total_rows: totalRows, offset };
  if (params.updateSeq) meta['update_seq'] = db.currentSeq;
  return viewRowsHead(meta);
}

function startRows(ctx: RequestContext, head: string): Promise<RowStream> {
  return RowStream.start(ctx, { head, separator: viewRowsSeparator });
}

async function docRow(db: Database, record: DocRecord, params: AllDocsParams, keysMode: boolean): Promise<string> {
  const id = stringifyJsonValue(record.id);
  const deleted = keysMode && record.deleted ? ',"deleted":true' : '';
  let row = `{"id":${id},"key":${id},"value":{"rev":${stringifyJsonValue(record.winningRev)}${deleted}}`;
  if (params.includeDocs) {
    const doc = record.deleted ? 'null' : renderDoc(await db.readRecord(record, { conflicts: params.conflicts }));
    row += `,"doc":${doc}`;
  }
  return `${row}}`;
}

async function docRange(ctx: RequestContext, db: Database, params: AllDocsParams, namespace: Namespace, pageSize: number): Promise<void> {
  const range =
    namespace === 'design'
      ? clampToNamespace(params, '_design/', '_design0')
      : { startKey: params.startKey, endKey: params.endKey, inclusiveEnd: params.inclusiveEnd };
  const bounds = {
    ...(range.endKey !== undefined ? { endKey: range.endKey } : {}),
    inclusiveEnd: range.inclusiveEnd,
    descending: params.descending,
  };
  const query = { ...bounds, ...(range.startKey !== undefined ? { startKey: range.startKey } : {}) };
  const withWinningBodies = params.includeDocs;
  let remaining = params.limit ?? Number.POSITIVE_INFINITY;
  let want = Math.min(remaining, pageSize);
  const first = await db.allDocs({ ...query, limit: want, skip: params.skip, withWinningBodies });
  let totalRows = first.totalRows;
  let offset = first.offset;
  if (namespace === 'design') {
    totalRows = await db.designDocCount();
    offset = Math.min(offset, totalRows);
  }
  const stream = await startRows(ctx, headFor(params, db, totalRows, offset));
  let page = first.records;
  for (;;) {
    for (const record of page) {
      if (!(await stream.row(await docRow(db, record, params, false)))) return;
    }
    remaining -= page.length;
    const last = page[page.length - 1];
    if (remaining <= 0 || page.length < want || last === undefined || stream.closed) break;
    want = Math.min(remaining, pageSize);
    page = await db.liveDocsAfter(last.id, { ...bounds, limit: want, withWinningBodies });
  }
  await stream.end(viewRowsTail);
}

/** The requested keys in answer order: reversed when descending, then `skip` and `limit`. */
function selectKeys(params: AllDocsParams, keys: readonly JsonValue[]): readonly JsonValue[] {
  const ordered = params.descending ? [...keys].reverse() : keys;
  const end = params.limit === undefined ? ordered.length : params.skip + params.limit;
  return ordered.slice(params.skip, end);
}

function notFoundRow(key: JsonValue): string {
  return `{"key":${stringifyJsonValue(key)},"error":"not_found"}`;
}

async function docKeys(ctx: RequestContext, db: Database, params: AllDocsParams, keys: readonly JsonValue[], pageSize: number): Promise<void> {
  const info = await db.info();
  const selected = selectKeys(params, keys);
  const stream = await startRows(ctx, headFor(params, db, info.doc_count, null));
  for (let start = 0; start < selected.length && !stream.closed; start += pageSize) {
    const page = selected.slice(start, start + pageSize);
    const ids = page.filter((key): key is string => typeof key === 'string' && !isLocalId(key));
    const records = await db.records(ids, { withWinningBodies: params.includeDocs });
    const byId = new Map<string, DocRecord>();
    ids.forEach((id, index) => {
      const record = records[index];
      if (record !== undefined) byId.set(id, record);
    });
    for (const key of page) {
      const record = typeof key === 'string' ? byId.get(key) : undefined;
      const row = record === undefined ? notFoundRow(key) : await docRow(db, record, params, true);
      if (!(await stream.row(row))) return;
    }
  }
  await stream.end(viewRowsTail);
}

function localRow(doc: LocalDoc, params: AllDocsParams): string {
  const id = stringifyJsonValue(doc.id);
  const docPart = params.includeDocs ? `,"doc":${renderLocal(doc)}` : '';
  return `{"id":${id},"key":${id},"value":{"rev":"0-${doc.rev}"}${docPart}}`;
}

async function localRange(ctx: RequestContext, db: Database, params: AllDocsParams, pageSize: number): Promise<void> {
  const range = clampToNamespace(params, '_local/', '_local0');
  const query = { ...range, descending: params.descending };
  const stream = await startRows(ctx, headFor(params, db, null, null));
  let remaining = params.limit ?? Number.POSITIVE_INFINITY;
  let afterKey: string | undefined;
  while (remaining > 0 && !stream.closed) {
    const want = Math.min(remaining, pageSize);
    const page = await db.localDocs(
      afterKey === undefined ? { ...query, limit: want, skip: params.skip } : { ...query, afterKey, limit: want },
    );
    for (const doc of page) {
      if (!(await stream.row(localRow(doc, params)))) return;
    }
    remaining -= page.length;
    const last = page[page.length - 1];
    if (page.length < want || last === undefined) break;
    afterKey = last.id;
  }
  await stream.end(viewRowsTail);
}

async function localKeys(ctx: RequestContext, db: Database, params: AllDocsParams, keys: readonly JsonValue[]): Promise<void> {
  const stream = await startRows(ctx, headFor(params, db, null, null));
  for (const key of selectKeys(params, keys)) {
    const doc = typeof key === 'string' && isLocalId(key) ? await db.store.getLocal(key) : undefined;
    const row = doc === undefined ? notFoundRow(key) : localRow(doc, params);
    if (!(await stream.row(row))) return;
  }
  await stream.end(viewRowsTail);
}
