/**
 * `GET`/`HEAD /{db}/{docid}`: one revision (the winner, `?rev=`, or with
 * `latest=true` the winner whatever `rev` says), its metadata, `open_revs`
 * as a JSON array or `multipart/mixed`, conditional GETs, local documents,
 * and the `_design%2Fx` → `_design/x` redirect.
 *
 * As in CouchDB, a reply carries an ETag only when the document has no
 * metadata members (`_revs_info`, `_conflicts`, `_deleted_conflicts`,
 * `_local_seq`), and `If-None-Match` is honoured only then.
 */
import { notFound } from '../core/errors.js';
import { stringifyJson } from '../core/json-write.js';
import { attsSincePos } from '../db/attachments-render.js';
import type { Database } from '../db/database.js';
import { isLocalId } from '../db/names.js';
import type { DocRevision, OpenRevsResult, ReadOptions } from '../db/read-doc.js';
import { readLocal, renderLocal } from '../db/local-docs.js';
import { renderDoc } from '../db/render.js';
import { openDatabase } from './db-access.js';
import type { MultipartPart } from './multipart.js';
import { acceptsContentType, multipartMixedBody, multipartMixedContentType, newBoundary } from './multipart.js';
import type { RequestContext } from './request.js';
import { baseHeaders, sendText } from './response.js';
import { absoluteUrl, etagMatches, localEtag, revEtag, sendEmpty } from './routes-document-common.js';
import type { DocQuery } from './routes-document-query.js';
import { parseDocQuery } from './routes-document-query.js';
import type { HttpServices } from './services.js';
import {
  docAsMultipart,
  renderDocWithAttachments,
  renderDocWithStubs,
  sendDocMultipartRelated,
  wantsMultipartRelated,
} from './routes-attachment-render.js';

export async function getDocument(ctx: RequestContext, services: HttpServices, docId: string): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const query = parseDocQuery(ctx.query);
  if (query.openRevs !== undefined) {
    await sendOpenRevs(ctx, db, docId, query.openRevs, query);
    return;
  }
  if (isLocalId(docId)) {
    await sendLocal(ctx, db, docId, query);
    return;
  }
  const doc = await readOne(db, docId, query);
  const hasMeta =
    doc.revsInfo !== undefined || doc.conflicts !== undefined || doc.deletedConflicts !== undefined || doc.localSeq !== undefined;
  const etag = hasMeta ? undefined : revEtag(doc.rev);
  if (wantsMultipartRelated(ctx, query, doc)) {
    await sendDocMultipartRelated(ctx, db, doc, query, etag);
    return;
  }
  const text = renderDocWithStubs(doc, query) ?? (await renderDocWithAttachments(db, doc, query));
  sendMaybeCached(ctx, `${text}\n`, etag);
}

/** The revision a plain GET answers; `latest=true` opens the winner whatever `rev` says (CouchDB 3.4). */
async function readOne(db: Database, docId: string, query: DocQuery): Promise<DocRevision> {
  if (query.rev !== undefined && !query.latest) {
    // a specific revision comes without metadata, as CouchDB's open_revs path reads it
    return db.getDoc(docId, { rev: query.rev, revs: query.revs });
  }
  const options: ReadOptions = {
    revs: query.revs,
    revsInfo: query.revsInfo,
    conflicts: query.conflicts,
    deletedConflicts: query.deletedConflicts,
    localSeq: query.localSeq,
    meta: query.meta,
  };
  if (!query.deleted) return db.getDoc(docId, options);
  const record = await db.record(docId);
  if (record === undefined) throw notFound('missing');
  return db.readRecord(record, options);
}

/** Local documents: no revision tree, so only `revs` applies; any `?rev=` is "missing" (CouchDB looks it up in the tree). */
async function sendLocal(ctx: RequestContext, db: Database, docId: string, query: DocQuery): Promise<void> {
  if (query.rev !== undefined && !query.latest) throw notFound('missing');
  const doc = await readLocal(db.store, docId);
  let text = renderLocal(doc);
  if (query.revs) text = `${text.slice(0, -1)},"_revisions":${stringifyJson({ start: 0, ids: [String(doc.rev)] })}}`;
  sendMaybeCached(ctx, `${text}\n`, localEtag(`0-${doc.rev}`, doc.json));
}

function sendMaybeCached(ctx: RequestContext, body: string, etag: string | undefined): void {
  if (etag === undefined) {
    sendText(ctx, 200, body);
    return;
  }
  if (etagMatches(ctx, etag)) {
    sendEmpty(ctx, 304, { ETag: etag });
    return;
  }
  sendText(ctx, 200, body, { headers: { ETag: etag } });
}

async function sendOpenRevs(
  ctx: RequestContext,
  db: Database,
  docId: string,
  revs: NonNullable<DocQuery['openRevs']>,
  query: DocQuery,
): Promise<void> {
  // local documents have no tree: `all` finds nothing (404), listed revs are all missing
  const results = await db.openRevs(docId, revs, { revs: query.revs, latest: query.latest });
  if (results.length === 0) throw notFound('missing');
  if (acceptsContentType(ctx.header('accept'), 'multipart/mixed')) {
    await sendOpenRevsMultipart(ctx, db, docId, results, query);
    return;
  }
  const items: string[] = [];
  for (const result of results) {
    items.push('ok' in result ? `{"ok":${await renderDocWithAttachments(db, result.ok, query)}}` : `{"missing":${stringifyJson(result.missing)}}`);
  }
  sendText(ctx, 200, `[${items.join(',')}]\n`);
}

/**
 * `open_revs` as `multipart/mixed`, as CouchDB's `send_docs_multipart` writes
 * it: whatever `attachments` says, every revision comes with its attachments
 * (those newer than `atts_since`) marked `"follows":true` in a nested
 * `multipart/related` part, the rest as stubs with encoding info; a revision
 * with nothing to follow is a plain `application/json` part. CouchDB's
 * replicator asks `?revs=true&open_revs=[…]&latest=true[&atts_since=[…]]`
 * without `attachments=true` and writes what it gets to the target, so stubs
 * here would make the target answer 412 missing_stub.
 */
async function sendOpenRevsMultipart(
  ctx: RequestContext,
  db: Database,
  docId: string,
  results: readonly OpenRevsResult[],
  query: DocQuery,
): Promise<void> {
  const boundary = newBoundary();
  const innerBoundary = newBoundary();
  const record = query.attsSince !== undefined && query.attsSince.length > 0 ? await db.record(docId) : undefined;
  const parts: MultipartPart[] = [];
  for (const result of results) {
    if ('missing' in result) {
      parts.push({ contentType: 'application/json; error="true"', body: `{"missing":${stringifyJson(result.missing)}}` });
      continue;
    }
    const doc = result.ok;
    if (doc.attachmentsJson.length <= 2) {
      parts.push({ contentType: 'application/json', body: renderDoc(doc) });
      continue;
    }
    const sincePos = attsSincePos(record, doc.rev, query.attsSince);
    const framed = await docAsMultipart(db, doc, sincePos, innerBoundary);
    parts.push({ contentType: framed.contentType, body: framed.body });
  }
  const body = multipartMixedBody(boundary, parts);
  const headers = baseHeaders(ctx, { headers: { 'Content-Type': multipartMixedContentType(boundary) } });
  delete headers['Cache-Control'];
  headers['Content-Length'] = String(body.length);
  ctx.response.writeHead(200, headers);
  ctx.response.end(ctx.isHead ? undefined : body);
}

/**
 * `GET /db/_design%2Fx…` → 301 to the same URL with `_design/` unescaped
 * (CouchDB splits the raw URL on every `_design%2F`, case-insensitively, and
 * puts one `_design/` back after the first piece).
 */
export async function redirectDesignDoc(ctx: RequestContext, services: HttpServices): Promise<void> {
  await openDatabase(ctx, services, 'member');
  const raw = ctx.rawQuery.length > 0 ? `${ctx.rawPath}?${ctx.rawQuery}` : ctx.rawPath;
  const [head = '', ...tail] = raw.split(/_design%2F/i);
  sendEmpty(ctx, 301, { Location: absoluteUrl(ctx, `${head}_design/${tail.join('')}`) });
}
