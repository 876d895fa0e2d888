/**
 * Documents read with attachment options (`attachments`, `att_encoding_info`,
 * `atts_since`): as JSON with inline data, or as CouchDB's
 * `multipart/related` (the document, its attachments marked
 * `"follows":true`, then one part per attachment with the stored bytes) for
 * `attachments=true` when the client accepts it and for every revision of a
 * `multipart/mixed` `open_revs` reply.
 */
import { stringifyJson } from '../core/json-write.js';
import type { Rev } from '../core/rev.js';
import type { Database } from '../db/database.js';
import { decodeMetas } from '../db/attachments.js';
import type { AttachmentReadOptions } from '../db/attachments-render.js';
import { attachmentsJsonFor, attsSincePos, stubJson, wantsAttachmentDetail } from '../db/attachments-render.js';
import type { DocRevision } from '../db/read-doc.js';
import { renderDoc } from '../db/render.js';
import { acceptsContentType, newBoundary } from './multipart.js';
import type { RequestContext } from './request.js';
import { baseHeaders } from './response.js';

export interface AttachmentQuery {
  readonly attachments: boolean;
  readonly attEncodingInfo: boolean;
  readonly attsSince?: readonly Rev[];
}

export function attachmentReadOptions(query: AttachmentQuery): AttachmentReadOptions {
  return {
    data: query.attachments || (query.attsSince !== undefined && query.attsSince.length > 0),
    encodingInfo: query.attEncodingInfo,
    ...(query.attsSince !== undefined ? { attsSince: query.attsSince } : {}),
  };
}

async function sincePosOf(db: Database, doc: DocRevision, options: AttachmentReadOptions): Promise<number> {
  if (options.attsSince === undefined || options.attsSince.length === 0) return 0;
  return attsSincePos(await db.record(doc.id), doc.rev, options.attsSince);
}

/** The document's JSON text with `_attachments` as the query asks. */
export async function renderDocWithAttachments(db: Database, doc: DocRevision, query: AttachmentQuery): Promise<string> {
  const options = attachmentReadOptions(query);
  if (!wantsAttachmentDetail(options) || doc.attachmentsJson.length <= 2) return renderDoc(doc);
  const sincePos = await sincePosOf(db, doc, options);
  const attachmentsJson = await attachmentsJsonFor(db.store, doc.id, doc.attachmentsJson, { ...options, sincePos });
  return renderDoc(doc, { attachmentsJson });
}

/**
 * `renderDocWithAttachments` when it needs no storage read (no attachment
 * detail asked for, or no attachments), without a promise; else undefined.
 */
export function renderDocWithStubs(doc: DocRevision, query: AttachmentQuery): string | undefined {
  if (doc.attachmentsJson.length > 2 && (query.attachments || query.attEncodingInfo || (query.attsSince?.length ?? 0) > 0)) return undefined;
  return renderDoc(doc);
}

/** Whether a GET of one document answers `multipart/related` (attachments=true and the client accepts it). */
export function wantsMultipartRelated(ctx: RequestContext, query: AttachmentQuery, doc: DocRevision): boolean {
  return query.attachments && doc.attachmentsJson.length > 2 && acceptsContentType(ctx.header('accept'), 'multipart/related');
}

/** A document framed for a multipart reply: its `Content-Type` and bytes. */
export interface MultipartDoc {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * A revision as CouchDB frames it for multipart replies
 * (`couch_doc:to_json_obj(Doc, [attachments, follows, att_encoding_info | …])`,
 * then `len_doc_to_multi_part_stream` and `doc_to_multi_part_stream` with
 * encoded attachments): attachments newer than `sincePos` are
 * `"follows":true` and sent as stored (gzip ones with `Content-Encoding`),
 * older ones are stubs; stubs and follows both carry the encoding info. When
 * nothing follows, the reply is the JSON alone, typed `application/json`.
 */
export async function docAsMultipart(db: Database, doc: DocRevision, sincePos: number, boundary: string): Promise<MultipartDoc> {
  const metas = decodeMetas(doc.attachmentsJson);
  const following = metas.filter((meta) => meta.revpos > sincePos);
  const members = metas.map((meta) => {
    if (meta.revpos <= sincePos) return `${stringifyJson(meta.name)}:${stubJson(meta, true)}`;
    let text = `{"content_type":${stringifyJson(meta.contentType)},"revpos":${meta.revpos},"digest":${stringifyJson(meta.digest)}`;
    text += `,"length":${meta.length},"follows":true`;
    if (meta.encoding !== undefined) text += `,"encoding":"${meta.encoding}","encoded_length":${meta.encodedLength ?? 0}`;
    return `${stringifyJson(meta.name)}:${text}}`;
  });
  const json = Buffer.from(renderDoc(doc, { attachmentsJson: `{${members.join(',')}}` }), 'utf8');
  if (following.length === 0) return { contentType: 'application/json', body: json };
  const chunks: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n`, 'utf8'), json];
  for (const meta of following) {
    const stored = await db.store.getAttachmentData(doc.id, meta.digest);
    if (stored === undefined) throw new Error(`assertion failed: data of attachment ${meta.name} of ${doc.id} is stored`);
    let head = `\r\n--${boundary}\r\nContent-Disposition: attachment; filename=${stringifyJson(meta.name)}`;
    head += `\r\nContent-Type: ${meta.contentType}\r\nContent-Length: ${stored.byteLength}`;
    if (meta.encoding !== undefined) head += `\r\nContent-Encoding: ${meta.encoding}`;
    chunks.push(Buffer.from(`${head}\r\n\r\n`, 'utf8'), Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength));
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--`, 'utf8'));
  return { contentType: `multipart/related; boundary="${boundary}"`, body: Buffer.concat(chunks) };
}

/** A GET of one document with `attachments=true` from a client that accepts `multipart/related`. */
export async function sendDocMultipartRelated(
  ctx: RequestContext,
  db: Database,
  doc: DocRevision,
  query: AttachmentQuery,
  etag: string | undefined,
): Promise<void> {
  const sincePos = await sincePosOf(db, doc, attachmentReadOptions(query));
  const { contentType, body } = await docAsMultipart(db, doc, sincePos, newBoundary());
  const headers = baseHeaders(ctx, { headers: { 'Content-Type': contentType, ...(etag !== undefined ? { ETag: etag } : {}) } });
  headers['Content-Length'] = String(body.length);
  ctx.response.writeHead(200, headers);
  ctx.response.end(ctx.isHead ? undefined : body);
}
