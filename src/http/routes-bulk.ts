/**
 * `_bulk_docs` and `_bulk_get` (this file), `_revs_diff` and `_missing_revs`
 * (`routes-bulk-revs.ts`).
 *
 * `_bulk_docs`: every document is parsed and validated first, so one bad id,
 * rev or non-object fails the whole request with 400; then `_local/` documents
 * are written as local documents and the rest go to the database in one
 * write. The answer is always 201 with one result per document (with
 * `new_edits:false`, only the failures). `all_or_nothing` is refused with 417
 * as CouchDB 3 clusters do.
 */
import type { CouchError } from '../core/errors.js';
import { CouchError as CouchErrorClass, badRequest, conflict, isCouchError } from '../core/errors.js';
import { requireDbAdmin } from '../auth/security.js';
import type { Database } from '../db/database.js';
import { validateDesignDoc } from '../db/design-doc.js';
import { checkViewFunctions } from '../views/design-check.js';
import type { JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { isNativeParsed } from '../core/json-parse.js';
import { formatRev, parseRev } from '../core/rev.js';
import type { Rev } from '../core/rev.js';
import type { DocUpdate } from '../db/document.js';
import { checkDocumentLimits } from '../db/document-limits.js';
import { docUpdateFromJson } from '../db/document.js';
import { isDesignId, isLocalId, validateDocId } from '../db/names.js';
import { renderDocWithAttachments, type AttachmentQuery } from './routes-attachment-render.js';
import type { OpenRevsResult } from '../db/read-doc.js';
import { readJsonObjectBody, readSizedJsonObjectBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import { stringifyJsonValue } from './json.js';
import { parseLenientBoolean } from './query.js';
import type { RequestContext } from './request.js';
import { sendJson, sendText } from './response.js';
import type { Router } from './router.js';
import { writeDocument } from './routes-document-write.js';
import { registerRevsRoutes } from './routes-bulk-revs.js';
import type { HttpServices } from './services.js';

export function registerBulkRoutes(router: Router): void {
  router.addDatabaseEndpoint('_bulk_docs', { allowed: 'POST', methods: { POST: bulkDocs } });
  router.addDatabaseEndpoint('_bulk_get', { allowed: 'POST', methods: { POST: bulkGet } });
  registerRevsRoutes(router);
}

type BulkResult = Readonly<Record<string, JsonValue>>;

function errorResult(id: string, error: CouchError, rev?: string): BulkResult {
  return rev === undefined ? { id, error: error.error, reason: error.reason } : { id, rev, error: error.error, reason: error.reason };
}

function revOf(update: DocUpdate): string {
  return update.history === null ? '0-' : `${update.history.pos}-${update.history.hashes[0] ?? ''}`;
}

async function bulkDocs(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db, security } = await openDatabase(ctx, services, 'member');
  requireContentType(ctx);
  const { value: body, bytes } = await readSizedJsonObjectBody(ctx, {
    bytesMax: services.limits.requestBytesMax,
    depthMax: services.limits.jsonDepthMax,
  });
  const docs = body['docs'];
  if (docs === undefined) throw badRequest('POST body must include `docs` parameter.');
  if (!Array.isArray(docs)) throw badRequest('`docs` parameter must be an array.');
  if (docs.length > services.limits.bulkDocsMax) {
    throw badRequest(`Too many documents in one request (at most ${services.limits.bulkDocsMax}).`);
  }
  const newEditsValue = body['new_edits'] ?? true;
  // CouchDB answers a non-boolean with 500 function_clause; a clean 400 says the same.
  if (typeof newEditsValue !== 'boolean') throw badRequest('`new_edits` parameter must be a boolean.');
  const newEdits = newEditsValue;
  const nativeParsed = isNativeParsed(body);
  const updates = docs.map((doc) => docUpdateFromJson(doc, { newId: () => services.uuids.next(), nativeParsed }));
  // As in CouchDB, one document over a limit fails the whole request (413), before anything is written.
  for (const update of updates) checkDocumentLimits(update, services.limits, bytes);
  if (body['all_or_nothing'] === true) {
    const refused = new CouchErrorClass(417, 'not_implemented', 'all_or_nothing is not supported');
    sendJson(ctx, 417, updates.map((update) => errorResult(update.id, refused, revOf(update))));
    return;
  }
  const results: (BulkResult | null)[] = new Array<BulkResult | null>(updates.length).fill(null);
  const toWrite: DocUpdate[] = [];
  const writeIndexes: number[] = [];
  const opened = { db, security };
  const unknown = newEdits ? await unknownIds(db, updates) : new Set<string>();
  for (const [index, update] of updates.entries()) {
    try {
      if (isLocalId(update.id)) {
        const written = await writeDocument(ctx, opened, update, { newEdits });
        results[index] = newEdits ? { ok: true, id: written.id, rev: written.rev } : null;
        continue;
      }
      if (isDesignId(update.id)) {
        requireDbAdmin(ctx.user, security);
        validateDesignDoc(update.body);
        if (!update.deleted) checkViewFunctions(update.id, update.body, { timeoutMs: db.limits.viewFunctionTimeoutMs });
      }
      // In `_bulk_docs` (unlike PUT) a live edit naming a rev of a document that does not exist is a conflict.
      if (update.history !== null && !update.deleted && unknown.has(update.id)) throw conflict();
      toWrite.push(update);
      writeIndexes.push(index);
    } catch (error) {
      if (!isCouchError(error)) throw error;
      results[index] = errorResult(update.id, error, newEdits ? undefined : revOf(update));
    }
  }
  const written = await db.updateDocs(toWrite, { newEdits });
  written.forEach((result, position) => {
    const index = writeIndexes[position] as number;
    if (result.ok) results[index] = newEdits ? { ok: true, id: result.id, rev: result.rev } : null;
    else results[index] = errorResult(result.id, result.error, newEdits ? undefined : (result.rev ?? revOf(toWrite[position] as DocUpdate)));
  });
  sendJson(ctx, 201, results.filter((result): result is BulkResult => result !== null));
}

/** Ids of edits that name a parent revision but whose document does not exist. */
async function unknownIds(db: Database, updates: readonly DocUpdate[]): Promise<Set<string>> {
  const ids = [...new Set(updates.filter((update) => update.history !== null && !isLocalId(update.id)).map((update) => update.id))];
  const records = ids.length === 0 ? [] : await db.records(ids);
  return new Set(ids.filter((_id, index) => records[index] === undefined));
}

// ---- _bulk_get ----

interface BulkGetItem {
  readonly id: JsonValue | undefined;
  readonly rev: JsonValue | undefined;
  /** Revisions the client has: their attachments come as stubs. */
  readonly attsSince: JsonValue | undefined;
}

interface BulkGetOptions {
  readonly revs: boolean;
  readonly latest: boolean;
  readonly attachments: boolean;
  readonly attEncodingInfo: boolean;
}

function itemError(id: JsonValue | undefined, rev: JsonValue, error: string, reason: string): string {
  return `{"error":${stringifyJsonValue({ id: id ?? null, rev, error, reason })}}`;
}

async function renderOpenRev(db: Database, id: string, result: OpenRevsResult, query: AttachmentQuery): Promise<string> {
  if ('ok' in result) return `{"ok":${await renderDocWithAttachments(db, result.ok, query)}}`;
  return itemError(id, result.missing, 'not_found', 'missing');
}

/** An item's `atts_since`: a list of revisions; anything else is ignored. */
function attsSinceOf(value: JsonValue | undefined): Rev[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const revs: Rev[] = [];
  for (const item of value) {
    try {
      revs.push(parseRev(item));
    } catch {
      return undefined;
    }
  }
  return revs;
}

async function bulkGet(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  const docs = body['docs'];
  if (docs === undefined) throw badRequest("Missing JSON list of 'docs'.");
  // CouchDB: 500 function_clause.
  if (!Array.isArray(docs)) throw badRequest("Missing JSON list of 'docs'.");
  if (docs.length > services.limits.bulkDocsMax) {
    throw badRequest(`Too many documents in one request (at most ${services.limits.bulkDocsMax}).`);
  }
  const revs = parseLenientBoolean(ctx.query.get('revs') ?? 'false');
  const latest = parseLenientBoolean(ctx.query.get('latest') ?? 'false');
  const attachments = ctx.query.get('attachments') === 'true';
  const attEncodingInfo = ctx.query.get('att_encoding_info') === 'true';
  const results: string[] = [];
  for (const doc of docs) {
    const item: BulkGetItem = isJsonObject(doc)
      ? { id: doc['id'], rev: doc['rev'], attsSince: doc['atts_since'] }
      : { id: undefined, rev: undefined, attsSince: undefined };
    results.push(await bulkGetOne(db, item, { revs, latest, attachments, attEncodingInfo }));
  }
  sendText(ctx, 200, `{"results":[${results.join(',')}]}\n`);
}

async function bulkGetOne(
  db: Awaited<ReturnType<typeof openDatabase>>['db'],
  item: BulkGetItem,
  options: BulkGetOptions,
): Promise<string> {
  const wrap = (docs: readonly string[]): string => `{"id":${stringifyJsonValue(item.id ?? null)},"docs":[${docs.join(',')}]}`;
  if (item.id === undefined || item.id === null) return wrap([itemError(null, null, 'bad_request', 'document id missed')]);
  const id = item.id;
  try {
    validateDocId(id);
  } catch (error) {
    if (isCouchError(error)) return wrap([itemError(id, null, error.error, error.reason)]);
    throw error;
  }
  let wanted: 'all' | Rev[] = 'all';
  if (item.rev !== undefined && item.rev !== null) {
    try {
      wanted = [parseRev(item.rev)];
    } catch (error) {
      if (isCouchError(error)) return wrap([itemError(id, item.rev, error.error, error.reason)]);
      throw error;
    }
  }
  let found: OpenRevsResult[];
  try {
    found = await db.openRevs(id, wanted, { revs: options.revs, latest: options.latest });
  } catch (error) {
    if (isCouchError(error) && error.status === 404) {
      return wrap([itemError(id, wanted === 'all' ? 'undefined' : formatRev(wanted[0] as Rev), 'not_found', error.reason)]);
    }
    throw error;
  }
  // Without a rev CouchDB lists every leaf, the highest revision first.
  const ordered = wanted === 'all' ? [...found].reverse() : found;
  const attsSince = attsSinceOf(item.attsSince);
  const query: AttachmentQuery = {
    attachments: options.attachments,
    attEncodingInfo: options.attEncodingInfo,
    ...(attsSince !== undefined ? { attsSince } : {}),
  };
  const rendered: string[] = [];
  for (const result of ordered) rendered.push(await renderOpenRev(db, id, result, query));
  return wrap(rendered);
}
