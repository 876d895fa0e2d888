/**
 * Reading a `multipart/related` request body: a document with the bytes of
 * its attachments, as CouchDB's replicator (`couch_doc:doc_to_multi_part_stream`),
 * nano's `multipart.insert` and CouchDB's documentation send it to
 * `PUT /{db}/{docid}`.
 *
 * The first part is the document JSON (its Content-Type must be
 * `application/json`: 415 otherwise, as `couch_httpd_multipart:mp_parse_doc`
 * answers); every later part holds the bytes of one `"follows":true`
 * attachment, in the order of `_attachments`. Part headers after the first
 * (`Content-Disposition`, `Content-Length`, `Content-Encoding`) are ignored,
 * as CouchDB ignores them: the JSON alone says what each part is.
 *
 * The whole body is read first (bounded by the request size limit, 413),
 * then split by `@remix-run/multipart-parser`. The boundary comes from our
 * own parameter parser: the library's `getMultipartBoundary` matches
 * `boundary=` anywhere in the header (`xboundary=` too) and keeps trailing
 * blanks of an unquoted value. Text before the first delimiter (a preamble)
 * is skipped, as CouchDB skips it; a body the parser cannot split is a 400.
 */
import { MaxPartsExceededError, MultipartParseError, parseMultipart } from '@remix-run/multipart-parser';
import type { MultipartPart } from '@remix-run/multipart-parser';
import { badContentType, badRequest, tooLarge } from '../core/errors.js';
import { readBody } from './body.js';
import type { RequestContext } from './request.js';

/** RFC 2046: a boundary is 1 to 70 characters. */
export const boundaryCharsMax = 70;

export interface MultipartRelatedBody {
  /** The first part: the document's JSON bytes. */
  readonly documentJson: Buffer;
  /** The parts after it, in order: the bytes of the attachments that follow. */
  readonly attachmentParts: readonly Uint8Array[];
}

export interface MultipartSplitOptions {
  /** `multipartPartsMax`: 413 beyond. */
  readonly partsMax: number;
  /** `multipartPartHeaderBytesMax`: 400 beyond. */
  readonly partHeaderBytesMax: number;
}

export interface MultipartRelatedOptions extends MultipartSplitOptions {
  /** The request size limit (`requestBytesMax`). */
  readonly bytesMax: number;
}

/** Whether a Content-Type header names `multipart/related` (any case, any parameters). */
export function isMultipartRelated(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return (contentType.split(';')[0] ?? '').trim().toLowerCase() === 'multipart/related';
}

// `; name=value` with the value a token or a quoted string (with `\` escapes).
const parameterPattern = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;

// Printable ASCII, not ending in a space (RFC 2046 `bchars` and a little more).
const boundaryPattern = /^[ -~]*[!-~]$/;

/** The `boundary` parameter of a multipart Content-Type; a missing or unusable one is a 400. */
export function multipartBoundary(contentType: string): string {
  for (const match of contentType.matchAll(parameterPattern)) {
    if ((match[1] ?? '').toLowerCase() !== 'boundary') continue;
    const raw = (match[2] ?? '').trim();
    const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
    const boundary = quoted ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if (boundary.length > boundaryCharsMax || !boundaryPattern.test(boundary)) break;
    return boundary;
  }
  throw badRequest('The multipart/related Content-Type needs a boundary of 1 to 70 characters');
}

function malformed(detail: string): never {
  throw badRequest(`Malformed multipart/related body: ${detail}`);
}

/** The parts of a whole body, split at `--boundary`, the preamble before the first delimiter skipped. */
function splitParts(body: Buffer, boundary: string, options: MultipartSplitOptions): MultipartPart[] {
  const { partsMax, partHeaderBytesMax } = options;
  const delimiter = `--${boundary}`;
  const start = body.indexOf(delimiter, 0, 'latin1');
  if (start === -1) malformed('no boundary delimiter');
  const message = withHeaderlessParts(body.subarray(start), delimiter);
  // The whole body is in memory already, bounded by the request limit: a part may be as large.
  const bytesMax = message.length;
  try {
    return [...parseMultipart(message, { boundary, maxHeaderSize: partHeaderBytesMax, maxParts: partsMax, maxFileSize: bytesMax, maxTotalSize: bytesMax })];
  } catch (error) {
    if (error instanceof MaxPartsExceededError) throw tooLarge(`A multipart/related body may have at most ${partsMax} parts`);
    if (error instanceof MultipartParseError) malformed(error.message);
    throw error;
  }
}

const crlf = Buffer.from('\r\n');

/**
 * The parser expects a header line after each delimiter; CouchDB's also
 * takes a part without any (`--B\r\n\r\nbytes`). Such a part gets an
 * empty line more, which the parser reads as an empty header block.
 */
function withHeaderlessParts(message: Buffer, delimiter: string): Buffer {
  const headerless = Buffer.from(`${delimiter}\r\n\r\n`, 'latin1');
  const pieces: Buffer[] = [];
  let from = 0;
  for (let at = message.indexOf(headerless); at !== -1; at = message.indexOf(headerless, at + headerless.length)) {
    const isDelimiter = at === 0 || (message[at - 2] === 0x0d && message[at - 1] === 0x0a);
    if (!isDelimiter) continue;
    const afterDelimiterLine = at + headerless.length - 2;
    pieces.push(message.subarray(from, afterDelimiterLine), crlf);
    from = afterDelimiterLine;
  }
  if (pieces.length === 0) return message;
  pieces.push(message.subarray(from));
  return Buffer.concat(pieces);
}

/** A part's bytes, without a copy when the parser kept them in one piece. */
function partBytes(part: MultipartPart): Buffer {
  const bytes = part.content.length === 1 ? (part.content[0] as Uint8Array) : part.bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function partMediaType(part: MultipartPart): string | undefined {
  let header: string | undefined;
  try {
    header = part.headers['content-type'];
  } catch {
    malformed('part headers are not UTF-8'); // the parser decodes them strictly
  }
  return header === undefined ? undefined : (header.split(';')[0] ?? '').trim().toLowerCase();
}

/** Splits a `multipart/related` body into the document JSON and the attachment parts. */
export function parseMultipartRelated(body: Buffer, boundary: string, options: MultipartSplitOptions): MultipartRelatedBody {
  const [document, ...attachments] = splitParts(body, boundary, options);
  if (document === undefined) malformed('no document part');
  if (partMediaType(document) !== 'application/json') throw badContentType();
  return { documentJson: partBytes(document), attachmentParts: attachments.map(partBytes) };
}

/** Reads the request body (413 beyond `bytesMax`) and splits it; the Content-Type must be `multipart/related`. */
export async function readMultipartRelated(ctx: RequestContext, options: MultipartRelatedOptions): Promise<MultipartRelatedBody> {
  const body = await readBody(ctx, { bytesMax: options.bytesMax }); // the size first, as CouchDB checks it
  const boundary = multipartBoundary(ctx.header('content-type') ?? '');
  return parseMultipartRelated(body, boundary, options);
}
