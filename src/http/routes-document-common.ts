/**
 * What the document handlers share: CouchDB's rules for where a write's
 * revision comes from (body `_rev`, `?rev=`, `If-Match`), ETags, the
 * absolute `Location` URL, and bodiless replies (304, 301).
 */
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { badRequest } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import { parseRev } from '../core/rev.js';
import type { Rev } from '../core/rev.js';
import type { RevHistory } from '../db/document.js';
import { decodeUtf8Json, readBody } from './body.js';
import { parseJsonText } from './json.js';
import { readMultipartRelated } from './multipart-related.js';
import type { RequestContext } from './request.js';
import { baseHeaders, sendText } from './response.js';
import type { HttpServices } from './services.js';

/** `couch_util:url_encode`: everything but `[A-Za-z0-9_.:-]` as `%XX` (upper-case hex) of the UTF-8 bytes. */
export function couchUrlEncode(text: string): string {
  if (urlSafeText.test(text)) return text; // most names and ids: nothing to encode
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += urlSafeChar.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

const urlSafeText = /^[A-Za-z0-9_.:-]*$/;
const urlSafeChar = /[A-Za-z0-9_.:-]/;

/** CouchDB's `absolute_uri`: scheme and host as the client (or a proxy) named them. */
export function absoluteUrl(ctx: RequestContext, path: string): string {
  const host = ctx.header('x-forwarded-host') ?? ctx.header('host') ?? localAddress(ctx);
  const secure = ctx.header('x-forwarded-ssl') === 'on' || ctx.header('x-forwarded-proto') === 'https';
  return `${secure ? 'https' : 'http'}://${host}${path}`;
}

function localAddress(ctx: RequestContext): string {
  const socket = ctx.request.socket;
  return `${socket.localAddress ?? '127.0.0.1'}:${socket.localPort ?? 0}`;
}

/** The `Location` of a document: `/{db}/{id}` with both parts fully encoded (`_local%2Fx`). */
export function documentLocation(ctx: RequestContext, database: string, docId: string): string {
  return absoluteUrl(ctx, `/${couchUrlEncode(database)}/${couchUrlEncode(docId)}`);
}

/** A document's ETag: its quoted revision. */
export function revEtag(rev: string): string {
  return `"${rev}"`;
}

/**
 * A local document's ETag: an opaque hash of its revision and body (CouchDB
 * hashes the same pair), written in base 36 as CouchDB's `make_etag` does.
 */
export function localEtag(rev: string, bodyJson: string): string {
  const digest = createHash('md5').update(rev).update('\n').update(bodyJson).digest('hex');
  return `"${BigInt(`0x${digest}`).toString(36).toUpperCase()}"`;
}

/** `If-Match` as a revision (surrounding quotes stripped), or undefined if absent. */
export function ifMatchRev(ctx: RequestContext): Rev | undefined {
  const value = ctx.header('if-match');
  if (value === undefined) return undefined;
  return parseRev(value.replace(/^"+/, '').replace(/"+$/, ''));
}

/** The first `?rev=` parsed (CouchDB's `qs_value`), or undefined. */
export function queryRev(ctx: RequestContext): Rev | undefined {
  const value = ctx.query.get('rev');
  return value === undefined ? undefined : parseRev(value);
}

const sameRev = (a: Rev, b: Rev): boolean => a.pos === b.pos && a.hash === b.hash;

/** CouchDB's `extract_header_rev`: an explicit rev and `If-Match` must agree. */
export function explicitOrHeaderRev(ctx: RequestContext, explicit: Rev | undefined): Rev | undefined {
  const header = ifMatchRev(ctx);
  if (explicit === undefined) return header;
  if (header !== undefined && !sameRev(explicit, header)) throw badRequest('Document rev and etag have different values');
  return explicit;
}

/**
 * The history a write builds on (CouchDB's `couch_doc_from_req`): the body's
 * `_rev`/`_revisions` when present (checked against `?rev=` and `If-Match`),
 * else `?rev=` or `If-Match`; null for none.
 */
export function writeHistory(ctx: RequestContext, bodyHistory: RevHistory | null): RevHistory | null {
  const fromQuery = queryRev(ctx);
  const newest = bodyHistory?.hashes[0];
  if (bodyHistory !== null && newest !== undefined) {
    const bodyRev: Rev = { pos: bodyHistory.pos, hash: newest };
    if (fromQuery !== undefined && !sameRev(fromQuery, bodyRev)) {
      throw badRequest('Document rev from request body and query string have different values');
    }
    explicitOrHeaderRev(ctx, bodyRev);
    return bodyHistory;
  }
  const rev = explicitOrHeaderRev(ctx, fromQuery);
  return rev === undefined ? null : { pos: rev.pos, hashes: [rev.hash] };
}

/** A submitted document: its JSON and how many bytes that JSON had (for `db/document-limits.ts`). */
export interface SubmittedDocument {
  readonly json: JsonValue;
  readonly bytes: number;
}

/** The request body as JSON, bounded by the request size limit (the document limits are checked once it is read). */
export async function readDocumentJson(ctx: RequestContext, services: HttpServices): Promise<SubmittedDocument> {
  const bytes = await readBody(ctx, { bytesMax: services.limits.requestBytesMax });
  return { json: parseDocumentBytes(bytes, services), bytes: bytes.length };
}

/** A document submitted as `multipart/related`: its JSON and the parts of the attachments that follow it. */
export interface MultipartDocument extends SubmittedDocument {
  readonly attachmentParts: readonly Uint8Array[];
}

/** A `multipart/related` request body (`multipart-related.ts`), its first part read as the document JSON. */
export async function readMultipartDocument(ctx: RequestContext, services: HttpServices): Promise<MultipartDocument> {
  const body = await readMultipartRelated(ctx, {
    bytesMax: services.limits.requestBytesMax,
    partsMax: services.httpLimits.multipartPartsMax,
    partHeaderBytesMax: services.httpLimits.multipartPartHeaderBytesMax,
  });
  const json = parseDocumentBytes(body.documentJson, services);
  return { json, bytes: body.documentJson.length, attachmentParts: body.attachmentParts };
}

function parseDocumentBytes(bytes: Buffer, services: HttpServices): JsonValue {
  return parseJsonText(decodeUtf8Json(bytes), { depthMax: services.limits.jsonDepthMax });
}

/** `{"ok":true,"id","rev"}` with the ETag CouchDB computes for the written revision. */
export function sendWriteResult(
  ctx: RequestContext,
  status: number,
  result: { readonly id: string; readonly rev: string },
  headers: OutgoingHttpHeaders,
): void {
  // The same text `sendJson` would write for `{ok: true, id, rev}`, without building and walking the object.
  sendText(ctx, status, `{"ok":true,"id":${stringifyJson(result.id)},"rev":${stringifyJson(result.rev)}}\n`, { headers });
}

/** A reply without a body (304, 301): no Content-Type, no Cache-Control, as CouchDB sends them. */
export function sendEmpty(ctx: RequestContext, status: number, headers: OutgoingHttpHeaders): void {
  const all = baseHeaders(ctx, { headers });
  delete all['Content-Type'];
  delete all['Cache-Control'];
  all['Content-Length'] = '0';
  ctx.response.writeHead(status, all);
  ctx.response.end();
}

/** CouchDB's `etag_match`: `If-None-Match` split on commas and spaces, compared verbatim (quotes included). */
export function etagMatches(ctx: RequestContext, etag: string): boolean {
  const header = ctx.header('if-none-match');
  if (header === undefined) return false;
  return header.split(/[, ]+/).some((candidate) => candidate === etag);
}
