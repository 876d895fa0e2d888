/**
 * Attachments as a revision records them: what a client may submit in
 * `_attachments`, how new data is encoded and digested, and the metadata a
 * stored revision body keeps (`RevisionBody.attachmentsJson`).
 *
 * CouchDB's rules (spec/revision-ids.md, "Attachment digests"): compressible
 * types are stored gzip-compressed exactly as the reference zlib writes them
 * (level 8, mtime 0, OS byte 3; pako reproduces the bytes), and the digest is
 * the MD5 of the bytes as stored. Data bodies live in the storage engine once
 * per (document, digest); the metadata names them by digest.
 *
 * New bytes come inline (`data`, base64) or, in a `multipart/related` body,
 * as the parts after the document (`"follows":true`); both are encoded the
 * same way, except parts the sender marks `"encoding":"gzip"` (CouchDB's
 * replicator sends stored gzip bytes that way), which are stored as sent.
 *
 * Stored metadata, in `_attachments` order, is CouchDB's stub without
 * `stub:true`: `{"content_type","revpos","digest","length"}` plus
 * `"encoding":"gzip","encoded_length"` for gzip-stored ones.
 */
import { createHash } from 'node:crypto';
import pako from 'pako';
import { badRequest, contentMd5Mismatch, CouchError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { orderedKeys } from '../core/json-order.js';
import { parseJson } from '../core/json-parse.js';
import { stringifyJson } from '../core/json-write.js';
import type { AttachmentDigest } from '../core/revid.js';

/** One attachment of a stored revision. */
export interface AttachmentMeta {
  readonly name: string;
  readonly contentType: string;
  readonly revpos: number;
  /** `md5-<base64>` of the bytes as stored. */
  readonly digest: string;
  /** Length of the decoded (identity) bytes. */
  readonly length: number;
  /** Present when stored gzip-compressed. */
  readonly encoding?: 'gzip';
  /** Length of the stored (gzip) bytes, with `encoding`. */
  readonly encodedLength?: number;
}

/** Bytes to store for a revision, under their digest. */
export interface AttachmentData {
  readonly digest: string;
  readonly bytes: Uint8Array;
}

/** An attachment submitted with data (inline base64, or a standalone upload). */
export interface AttachmentWithData {
  readonly kind: 'data';
  readonly meta: Omit<AttachmentMeta, 'revpos'>;
  /** Kept by replicated writes (`new_edits=false`); new edits use the new position. */
  readonly revpos?: number;
  readonly bytes: Uint8Array;
}

/** `"stub": true`: keep the attachment of that name from the revision edited. */
export interface AttachmentStub {
  readonly kind: 'stub';
  readonly name: string;
}

export type AttachmentInput = AttachmentWithData | AttachmentStub;

export const defaultContentType = 'application/octet-stream';

/** CouchDB's default `[attachments] compressible_types`. */
const compressibleTypes = new Set(['application/javascript', 'application/json', 'application/xml']);
/** CouchDB's `[attachments] compression_level`. */
const gzipLevel = 8;

export function isCompressible(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type.startsWith('text/') || compressibleTypes.has(type);
}

/** Encodes raw bytes as CouchDB stores them: gzip for compressible types, with the digest of the stored bytes. */
export function encodeAttachment(name: string, contentType: string, raw: Uint8Array): AttachmentWithData {
  if (!isCompressible(contentType)) {
    return { kind: 'data', meta: { name, contentType, digest: md5Digest(raw), length: raw.length }, bytes: raw };
  }
  // pako's defaults: mtime 0; OS byte 3 (unix), as the reference zlib writes it.
  const stored = pako.gzip(raw, { level: gzipLevel });
  return {
    kind: 'data',
    meta: { name, contentType, digest: md5Digest(stored), length: raw.length, encoding: 'gzip', encodedLength: stored.length },
    bytes: stored,
  };
}

/** The identity bytes of stored data. */
export function decodeStoredBytes(meta: AttachmentMeta, stored: Uint8Array): Uint8Array {
  return meta.encoding === 'gzip' ? pako.ungzip(stored) : stored;
}

export function md5Digest(bytes: Uint8Array): string {
  return `md5-${createHash('md5').update(bytes).digest('base64')}`;
}

/** The 16 MD5 bytes a digest names, as the revision hash wants them. */
export function digestMd5(digest: string): Uint8Array {
  return Buffer.from(digest.startsWith('md5-') ? digest.slice(4) : digest, 'base64');
}

export function revHashDigests(metas: readonly AttachmentMeta[]): AttachmentDigest[] {
  return metas.map((meta) => ({ name: meta.name, contentType: meta.contentType, md5: digestMd5(meta.digest) }));
}

/** The name rule of `couch_doc:validate_attachment_name` (the part a client can trip). */
export function validateAttachmentName(name: string): void {
  if (name.startsWith('_')) throw badRequest(`Attachment name '${name}' starts with prohibited character '_'`);
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

function invalidData(name: string): CouchError {
  return badRequest(`Invalid attachment data for ${name}`);
}

/** Decodes strict base64 (whitespace tolerated, as Erlang's `base64:decode`). */
function decodeBase64(text: string, name: string): Uint8Array {
  const compact = text.replace(/[\s]/g, '');
  if (compact.length % 4 === 1 || !base64Pattern.test(compact)) throw invalidData(name);
  return Buffer.from(compact, 'base64');
}

export interface AttachmentInputOptions {
  /**
   * The bytes of the parts after the document in a `multipart/related` body,
   * in order: each `"follows":true` member takes the next one. Absent for a
   * plain JSON body, where `follows` is an error.
   */
  readonly followed?: readonly Uint8Array[];
}

/**
 * Parses a submitted `_attachments` object, in document order: `stub:true`
 * members keep an existing attachment, `data` members bring new bytes, and
 * `follows` members take theirs from the next part of a multipart body.
 * Bad names and bad data are 400s, as in `couch_doc:from_json_obj`.
 */
export function parseAttachmentInputs(attachments: JsonObject, options: AttachmentInputOptions = {}): AttachmentInput[] {
  const inputs: AttachmentInput[] = [];
  let nextPart = 0;
  for (const name of orderedKeys(attachments)) {
    validateAttachmentName(name);
    const member = attachments[name] as JsonValue;
    if (!isJsonObject(member)) throw invalidData(name);
    if (member['stub'] === true) {
      inputs.push({ kind: 'stub', name });
      continue;
    }
    const type = member['content_type'];
    const contentType = typeof type === 'string' && type.length > 0 ? type : defaultContentType;
    let encoded: AttachmentWithData;
    if (member['follows'] === true) {
      if (options.followed === undefined) throw badRequest(`Attachment ${name} follows, but the request is not multipart`);
      encoded = followedAttachment(name, contentType, member, options.followed[nextPart]);
      nextPart += 1;
    } else {
      const data = member['data'];
      if (typeof data !== 'string') throw invalidData(name);
      encoded = encodeAttachment(name, contentType, decodeBase64(data, name));
    }
    const revpos = member['revpos'];
    inputs.push(typeof revpos === 'number' && Number.isInteger(revpos) && revpos > 0 ? { ...encoded, revpos } : encoded);
  }
  // Parts left over are ignored: CouchDB reads each attachment's length from
  // the body and never looks at what comes after the last one.
  return inputs;
}

const gzipMagic = [0x1f, 0x8b] as const;

/** An attachment that CouchDB says "shorter/longer than expected" about. */
function lengthMismatch(received: number, expected: number): CouchError {
  return badRequest(received < expected ? 'attachment shorter than expected' : 'attachment longer than expected');
}

function lengthMember(member: JsonObject, key: string, name: string): number | undefined {
  const value = member[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalidData(name);
  return value;
}

/**
 * A `"follows":true` member with the bytes of its part, as CouchDB's
 * `couch_att:follow_from_json` and `flush_data` treat it. The part holds
 * `length` identity bytes, or with `"encoding":"gzip"` `encoded_length`
 * (default `length`) gzip bytes that are stored as sent. A `digest`
 * (`md5-…`) must be the MD5 of the bytes as received: the identity bytes,
 * or the gzip bytes (CouchDB checks the stream's "identity" MD5, taken
 * before its own compression). An attachment of length 0 needs no part.
 */
function followedAttachment(name: string, contentType: string, member: JsonObject, part: Uint8Array | undefined): AttachmentWithData {
  const length = lengthMember(member, 'length', name);
  const encodingValue = member['encoding'];
  const gzip = encodingValue === 'gzip';
  if (encodingValue !== undefined && encodingValue !== 'identity' && !gzip) {
    throw badRequest(`Attachment ${name} has an unsupported encoding: ${String(encodingValue)}`);
  }
  const expected = gzip ? (lengthMember(member, 'encoded_length', name) ?? length) : length;
  const bytes = part ?? (expected === 0 ? new Uint8Array(0) : undefined);
  if (bytes === undefined) throw badRequest('attachment shorter than expected');
  if (expected !== undefined && bytes.length !== expected) throw lengthMismatch(bytes.length, expected);
  checkDeclaredDigest(member['digest'], bytes);
  if (!gzip) return encodeAttachment(name, contentType, bytes);
  // Gzip bytes are kept as sent; their identity length is only known from `length`.
  if (length === undefined || bytes[0] !== gzipMagic[0] || bytes[1] !== gzipMagic[1]) throw invalidData(name);
  return {
    kind: 'data',
    meta: { name, contentType, digest: md5Digest(bytes), length, encoding: 'gzip', encodedLength: bytes.length },
    bytes,
  };
}

/** CouchDB checks only `md5-` digests (`couch_att:digest_from_json`); others are ignored. */
function checkDeclaredDigest(declared: JsonValue | undefined, received: Uint8Array): void {
  if (typeof declared !== 'string' || !declared.startsWith('md5-')) return;
  const expected = Buffer.from(declared.slice(4), 'base64');
  if (!expected.equals(createHash('md5').update(received).digest())) throw contentMd5Mismatch();
}

/** Stored metadata as JSON text (`{}` for none). */
export function encodeMetas(metas: readonly AttachmentMeta[]): string {
  if (metas.length === 0) return '{}';
  const members = metas.map((meta) => {
    let text = `${stringifyJson(meta.name)}:{"content_type":${stringifyJson(meta.contentType)},"revpos":${meta.revpos}`;
    text += `,"digest":${stringifyJson(meta.digest)},"length":${meta.length}`;
    if (meta.encoding !== undefined) text += `,"encoding":"${meta.encoding}","encoded_length":${meta.encodedLength ?? 0}`;
    return `${text}}`;
  });
  return `{${members.join(',')}}`;
}

/** Parses stored metadata (the engine hands back what `encodeMetas` wrote). */
export function decodeMetas(json: string): AttachmentMeta[] {
  if (json.length <= 2) return [];
  const value = parseJson(json);
  if (!isJsonObject(value)) throw new Error('assertion failed: stored attachment metadata is an object');
  return orderedKeys(value).map((name) => {
    const member = value[name] as JsonObject;
    const meta: AttachmentMeta = {
      name,
      contentType: member['content_type'] as string,
      revpos: member['revpos'] as number,
      digest: member['digest'] as string,
      length: member['length'] as number,
    };
    return member['encoding'] === 'gzip'
      ? { ...meta, encoding: 'gzip', encodedLength: member['encoded_length'] as number }
      : meta;
  });
}
