/**
 * `PUT` and `DELETE /{db}/{docid}`, normal, design and local documents.
 *
 * PUT: the body is JSON whatever the Content-Type says (CouchDB reads it with
 * `json_body`), except `multipart/related`: the document JSON, then the bytes
 * of each `"follows":true` attachment (`multipart-related.ts` splits the
 * body, `db/attachments.ts` matches parts to attachments). CouchDB's
 * replicator pushes documents with attachments that way (`?new_edits=false`),
 * and nano uploads them so. After parsing, both forms take the same path.
 * 201 for a live revision, 200 when the write deletes (`"_deleted":true`),
 * 202 without a rev for `batch=ok` (written after the reply, errors only
 * logged, as CouchDB does). CouchDB ignores `batch=ok` for a multipart body,
 * and so does Settee: that write is done before the answer.
 *
 * DELETE: 404 `missing`/`deleted` before anything else, then a deletion
 * built on `?rev=`/`If-Match` (409 without one), 200.
 *
 * Design documents are written by db admins only and checked first
 * (`validateDesignDoc`); local documents follow `db/local-docs.ts`.
 */
import { badRequest, isCouchError, notFound } from '../core/errors.js';
import { requireDbAdmin } from '../auth/security.js';
import { stringifyJson } from '../core/json-write.js';
import { formatRev, parseRev } from '../core/rev.js';
import { validateDesignDoc } from '../db/design-doc.js';
import { checkViewFunctions } from '../views/design-check.js';
import type { DocUpdate, RevHistory } from '../db/document.js';
import { docUpdateFromJson } from '../db/document.js';
import { checkDocumentLimits } from '../db/document-limits.js';
import { readLocal, removeLocal, writeLocal } from '../db/local-docs.js';
import { isDesignId, isLocalId, validateDocId, validateLocalId } from '../db/names.js';
import type { OpenedDatabase } from './db-access.js';
import { openDatabase } from './db-access.js';
import { isMultipartRelated } from './multipart-related.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import {
  documentLocation,
  localEtag,
  readDocumentJson,
  readMultipartDocument,
  revEtag,
  type SubmittedDocument,
  sendWriteResult,
  writeHistory,
} from './routes-document-common.js';
import { parseDocQuery } from './routes-document-query.js';
import type { HttpServices } from './services.js';

export interface WriteResult {
  readonly id: string;
  readonly rev: string;
  /** The ETag CouchDB sends for this write (the quoted rev, or a local document's hash). */
  readonly etag: string;
}

const newEditsFalseNeedsRev = 'When `new_edits: false`, the document needs `_rev` or `_revisions` specified';
const emptyBodyJson = '{}';

export async function putDocument(ctx: RequestContext, services: HttpServices, docId: string): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  validateDocId(docId);
  const { newEdits } = parseDocQuery(ctx.query);
  const multipart = isMultipartRelated(ctx.header('content-type'));
  const submitted: SubmittedDocument & { readonly attachmentParts?: readonly Uint8Array[] } = multipart
    ? await readMultipartDocument(ctx, services)
    : await readDocumentJson(ctx, services);
  const parsed = docUpdateFromJson(submitted.json, { id: docId, followed: submitted.attachmentParts });
  checkDocumentLimits(parsed, services.limits, submitted.bytes);
  const update: DocUpdate = { ...parsed, history: writeHistory(ctx, parsed.history) };
  if (!newEdits && (update.history === null || update.history.hashes.length === 0)) throw badRequest(newEditsFalseNeedsRev);
  const location = documentLocation(ctx, opened.db.name, docId);
  if (ctx.query.get('batch') === 'ok' && !multipart) {
    writeInBackground(ctx, services, opened, update, newEdits);
    sendJson(ctx, 202, { ok: true, id: docId });
    return;
  }
  const result = await writeDocument(ctx, opened, update, { newEdits });
  sendWriteResult(ctx, update.deleted ? 200 : 201, result, { ETag: result.etag, Location: location });
}

/** `batch=ok`: CouchDB answers before writing and only logs what goes wrong. */
function writeInBackground(
  ctx: RequestContext,
  services: HttpServices,
  opened: OpenedDatabase,
  update: DocUpdate,
  newEdits: boolean,
): void {
  writeDocument(ctx, opened, update, { newEdits }).catch((error: unknown) => {
    services.logger.info(`batch write of ${update.id} in ${opened.db.name} failed: ${String(error)}`);
  });
}

export async function deleteDocument(ctx: RequestContext, services: HttpServices, docId: string): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  if (isLocalId(docId)) {
    await readLocal(opened.db.store, docId);
  } else {
    const record = await opened.db.record(docId);
    if (record === undefined) throw notFound('missing');
    if (record.deleted) throw notFound('deleted');
  }
  // CouchDB turns `?rev=` into the body's `_rev` and then checks it like a PUT
  const revText = ctx.query.get('rev');
  const bodyRev = revText === undefined ? null : parseRev(revText);
  const bodyHistory: RevHistory | null = bodyRev === null ? null : { pos: bodyRev.pos, hashes: [bodyRev.hash] };
  const update: DocUpdate = {
    id: docId,
    history: writeHistory(ctx, bodyHistory),
    deleted: true,
    body: {},
    attachments: null,
  };
  const result = await writeDocument(ctx, opened, update, { newEdits: true });
  sendWriteResult(ctx, 200, result, { ETag: result.etag });
}

/**
 * Writes one document of any kind: local ones through `local-docs.ts`,
 * design ones after the db-admin check and design validation, others through
 * the database's writer. Throws the edit's error (409, …).
 */
export async function writeDocument(
  ctx: RequestContext,
  opened: OpenedDatabase,
  update: DocUpdate,
  options: { readonly newEdits: boolean },
): Promise<WriteResult> {
  if (isLocalId(update.id)) return writeLocalDocument(opened, update, options);
  if (isDesignId(update.id)) {
    requireDbAdmin(ctx.user, opened.security);
    validateDesignDoc(update.body);
    if (!update.deleted) checkViewFunctions(update.id, update.body, { timeoutMs: opened.db.limits.viewFunctionTimeoutMs });
  }
  const result = await opened.db.updateDoc(update, { newEdits: options.newEdits });
  return { ...result, etag: revEtag(result.rev) };
}

async function writeLocalDocument(
  opened: OpenedDatabase,
  update: DocUpdate,
  options: { readonly newEdits: boolean },
): Promise<WriteResult> {
  const store = opened.db.store;
  if (update.deleted) {
    // a deletion needs no revision and succeeds even when there is nothing to delete
    validateLocalId(update.id);
    await removeLocal(store, update.id).catch((error: unknown) => {
      if (!isCouchError(error) || error.status !== 404) throw error;
    });
    return { id: update.id, rev: '0-0', etag: localEtag('0-0', emptyBodyJson) };
  }
  const newest = update.history?.hashes[0];
  const rev = update.history === null || newest === undefined ? undefined : formatRev({ pos: update.history.pos, hash: newest });
  const result = await writeLocal(store, { id: update.id, rev, body: update.body, replicated: !options.newEdits });
  return { ...result, etag: localEtag(result.rev, stringifyJson(update.body)) };
}
