/**
 * `/{db}/{docid}/{attachment}` (names may contain `/`): GET/HEAD, PUT, DELETE
 * (CouchDB's `chttpd_db:db_attachment_req`).
 *
 * GET answers the bytes as stored with the attachment's Content-Type, its
 * digest (without `md5-`) as ETag and `Content-Security-Policy: sandbox`.
 * Gzip-stored attachments go out as stored with `Content-Encoding: gzip` when
 * the client accepts gzip, decompressed otherwise, and never by range
 * (`Accept-Ranges: none`); others honour one `Range` (206, 416).
 *
 * PUT stores the raw body as a new revision of the document (`?rev=` or
 * `If-Match`; none makes a new document, which conflicts with an existing
 * one); DELETE writes a revision without the attachment. Both keep the other
 * attachments as stubs of the revision edited; the new attachment comes first
 * (CouchDB puts it before the kept ones).
 */
import { badRequest, conflict, isCouchError, methodNotAllowed, notFound, attachmentTooLarge } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { parseJson } from '../core/json-parse.js';
import type { Rev } from '../core/rev.js';
import type { Database } from '../db/database.js';
import type { AttachmentInput, AttachmentMeta } from '../db/attachments.js';
import { decodeMetas, decodeStoredBytes, defaultContentType, encodeAttachment, validateAttachmentName } from '../db/attachments.js';
import type { DocUpdate } from '../db/document.js';
import { validateDocId } from '../db/names.js';
import type { DocRevision } from '../db/read-doc.js';
import { readBody } from './body.js';
import { openDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import { baseHeaders } from './response.js';
import type { DocumentTarget } from './router.js';
import { absoluteUrl, couchUrlEncode, etagMatches, explicitOrHeaderRev, queryRev, sendEmpty, sendWriteResult } from './routes-document-common.js';
import { writeDocument } from './routes-document-write.js';
import type { HttpServices } from './services.js';
import { byteRange, type ByteRange } from './routes-attachment-range.js';

export async function attachmentRequest(ctx: RequestContext, services: HttpServices, target: DocumentTarget): Promise<void> {
  const name = target.attachment as string;
  switch (ctx.method) {
    case 'GET':
    case 'HEAD':
      await getAttachment(ctx, services, target.docId, name);
      return;
    case 'PUT':
      await putAttachment(ctx, services, target.docId, name);
      return;
    case 'DELETE':
      await deleteAttachment(ctx, services, target.docId, name);
      return;
    default:
      throw methodNotAllowed('DELETE,GET,HEAD,PUT');
  }
}

function requireNotLocal(docId: string): void {
  if (docId.startsWith('_local/')) throw badRequest('_local documents do not accept attachments.');
}

async function getAttachment(ctx: RequestContext, services: HttpServices, docId: string, name: string): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  requireNotLocal(docId);
  const rev = queryRev(ctx);
  const doc = await db.getDoc(docId, rev === undefined ? {} : { rev });
  const meta = decodeMetas(doc.attachmentsJson).find((candidate) => candidate.name === name);
  if (meta === undefined) throw notFound('Document is missing attachment');
  const etag = `"${meta.digest.startsWith('md5-') ? meta.digest.slice(4) : meta.digest}"`;
  if (etagMatches(ctx, etag)) {
    sendEmpty(ctx, 304, { ETag: etag });
    return;
  }
  const stored = await db.store.getAttachmentData(docId, meta.digest);
  if (stored === undefined) throw new Error(`assertion failed: data of attachment ${name} of ${docId} is stored`);
  const headers = baseHeaders(ctx, {
    headers: {
      'Content-Type': meta.contentType,
      ETag: etag,
      'Content-Security-Policy': 'sandbox',
      'Accept-Ranges': meta.encoding === undefined ? 'bytes' : 'none',
    },
  });
  let body = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  let status = 200;
  if (meta.encoding !== undefined) {
    if (acceptsGzip(ctx.header('accept-encoding'))) headers['Content-Encoding'] = 'gzip';
    else body = Buffer.from(decodeStoredBytes(meta, stored));
  } else {
    const range: ByteRange | undefined = byteRange(ctx.header('range'), body.length);
    if (range !== undefined) {
      status = 206;
      headers['Content-Range'] = `bytes ${range.first}-${range.last}/${body.length}`;
      body = body.subarray(range.first, range.last + 1);
    }
  }
  headers['Content-Length'] = String(body.length);
  ctx.response.writeHead(status, headers);
  ctx.response.end(ctx.isHead ? undefined : body);
}

/** Whether `Accept-Encoding` lists gzip with a non-zero quality. */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((item) => {
    const [coding, ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const quality = params.find((param) => param.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
}

async function putAttachment(ctx: RequestContext, services: HttpServices, docId: string, name: string): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  requireNotLocal(docId);
  validateDocId(docId);
  validateAttachmentName(name);
  const rev = explicitOrHeaderRev(ctx, queryRev(ctx));
  const bytes = await readBody(ctx, { bytesMax: services.limits.requestBytesMax });
  if (bytes.length > services.limits.attachmentBytesMax) throw attachmentTooLarge(name);
  const contentType = ctx.header('content-type') ?? defaultContentType;
  const base = rev === undefined ? undefined : await revisionOrConflict(opened.db, docId, rev);
  const added = encodeAttachment(name, contentType.length > 0 ? contentType : defaultContentType, bytes);
  const update = editedDoc(docId, base, rev, [added, ...keptStubs(base, name)]);
  const result = await writeDocument(ctx, opened, update, { newEdits: true });
  const location = `/${couchUrlEncode(opened.db.name)}/${couchUrlEncode(docId)}/${name.split('/').map(couchUrlEncode).join('/')}`;
  sendWriteResult(ctx, 201, result, { Location: absoluteUrl(ctx, location) });
}

async function deleteAttachment(ctx: RequestContext, services: HttpServices, docId: string, name: string): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  requireNotLocal(docId);
  const rev = explicitOrHeaderRev(ctx, queryRev(ctx));
  const base = rev === undefined ? await opened.db.getDoc(docId) : await revisionOrConflict(opened.db, docId, rev);
  if (!decodeMetas(base.attachmentsJson).some((meta) => meta.name === name)) throw notFound('Document is missing attachment');
  if (rev === undefined) throw conflict();
  const update = editedDoc(docId, base, rev, keptStubs(base, name));
  const result = await writeDocument(ctx, opened, update, { newEdits: true });
  sendWriteResult(ctx, 200, result, {});
}

/** The revision an attachment edit builds on; a revision the document lacks is a conflict (as in CouchDB). */
async function revisionOrConflict(db: Database, docId: string, rev: Rev): Promise<DocRevision> {
  try {
    return await db.getDoc(docId, { rev });
  } catch (error) {
    if (isCouchError(error) && error.status === 404) throw conflict();
    throw error;
  }
}

function keptStubs(base: DocRevision | undefined, except: string): AttachmentInput[] {
  if (base === undefined) return [];
  return decodeMetas(base.attachmentsJson)
    .filter((meta: AttachmentMeta) => meta.name !== except)
    .map((meta) => ({ kind: 'stub', name: meta.name }));
}

function editedDoc(docId: string, base: DocRevision | undefined, rev: Rev | undefined, inputs: AttachmentInput[]): DocUpdate {
  let body: JsonObject = {};
  if (base !== undefined) {
    const parsed = parseJson(base.bodyJson);
    if (isJsonObject(parsed)) body = parsed;
  }
  return {
    id: docId,
    history: rev === undefined ? null : { pos: rev.pos, hashes: [rev.hash] },
    deleted: false,
    body,
    attachments: null,
    attachmentInputs: inputs,
  };
}
