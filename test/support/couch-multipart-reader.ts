/**
 * Multipart bodies read the way CouchDB's replicator reads them, strictly:
 *
 * - `parseMultipart` is `couch_httpd:parse_multipart_request`: skip to the
 *   first `--B`, read part headers up to `\r\n\r\n` (each line split at its
 *   first `:`, the name lower-cased, the value through mochiweb's
 *   `parse_header`), the body up to `\r\n--B`, and stop when `--` follows;
 * - `readOpenRevs` is `couch_replicator_api_wrap:receive_docs` over a
 *   `multipart/mixed` `open_revs` reply: a part typed exactly
 *   `application/json` (no parameters) is a document, `application/json;
 *   error="true"` a missing revision, `multipart/related` a document with
 *   attachments (`couch_doc:doc_from_multi_part_stream`); any other type
 *   crashes the replicator (a `case_clause`), so it throws here;
 * - `readDocMultipart` is `doc_from_multi_part_stream`: the first part must
 *   be `application/json`; the later parts' bodies are one byte stream from
 *   which each `follows` attachment takes its `encoded_length` bytes in order.
 */
import type { CouchDoc } from './couch-doc-json.js';
import { docFromJson, parseRev } from './couch-doc-json.js';

/** mochiweb_util:parse_header: the lower-cased type and its parameters (names lower-cased, values unquoted). */
export interface ParsedHeader {
  readonly value: string;
  readonly params: ReadonlyMap<string, string>;
}

export function parseHeader(text: string): ParsedHeader {
  const [head = '', ...rest] = text.split(';');
  const params = new Map<string, string>();
  for (const item of rest) {
    const equals = item.indexOf('=');
    if (equals < 0) continue;
    let value = item.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params.set(item.slice(0, equals).trim().toLowerCase(), value);
  }
  return { value: head.trim().toLowerCase(), params };
}

export interface MultipartPart {
  readonly headers: ReadonlyMap<string, ParsedHeader>;
  readonly body: Buffer;
}

export function parseMultipart(contentType: string, body: Buffer): MultipartPart[] {
  const type = parseHeader(contentType);
  const boundary = type.params.get('boundary');
  if (!type.value.startsWith('multipart/') || boundary === undefined) throw new Error(`not a multipart type: ${contentType}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const first = body.indexOf(`--${boundary}`);
  if (first < 0) throw new Error('multipart body without its first boundary');
  let position = first + boundary.length + 2;
  const parts: MultipartPart[] = [];
  for (;;) {
    const headerEnd = body.indexOf('\r\n\r\n', position);
    if (headerEnd < 0) throw new Error('multipart body truncated in part headers');
    const headers = new Map<string, ParsedHeader>();
    for (const line of body.subarray(position, headerEnd).toString('latin1').split('\r\n')) {
      if (line.length === 0) continue;
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`bad part header: ${line}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), parseHeader(line.slice(colon + 1)));
    }
    const bodyStart = headerEnd + 4;
    const bodyEnd = body.indexOf(delimiter, bodyStart);
    if (bodyEnd < 0) throw new Error('multipart body truncated in a part');
    parts.push({ headers, body: body.subarray(bodyStart, bodyEnd) });
    position = bodyEnd + delimiter.length;
    if (body.length < position + 2) throw new Error('multipart body truncated after a boundary');
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return parts;
  }
}

/** One entry of an `open_revs` reply as the replicator's doc handler receives it. */
export type OpenRevsItem = { readonly ok: CouchDoc } | { readonly missing: { readonly pos: number; readonly id: string } };

/** The `multipart/mixed` reply of `GET /db/doc?open_revs=…` with `Accept: multipart/mixed`. */
export function readOpenRevs(contentType: string, body: Buffer): OpenRevsItem[] {
  if (parseHeader(contentType).value !== 'multipart/mixed') throw new Error(`open_revs answered ${contentType}, not multipart/mixed`);
  return parseMultipart(contentType, body).map((part): OpenRevsItem => {
    const type = part.headers.get('content-type');
    if (type === undefined) throw new Error('case_clause: an open_revs part without Content-Type');
    if (type.value === 'multipart/related') return { ok: readDocMultipart(type, part.body) };
    if (type.value === 'application/json' && type.params.size === 0) return { ok: docFromJson(JSON.parse(part.body.toString('utf8'))) };
    if (type.value === 'application/json' && type.params.size === 1 && type.params.get('error') === 'true') {
      const missing = (JSON.parse(part.body.toString('utf8')) as { missing?: unknown }).missing;
      return { missing: parseRev(missing) };
    }
    throw new Error(`case_clause: an open_revs part typed ${type.value} ${JSON.stringify([...type.params])}`);
  });
}

/** `couch_doc:doc_from_multi_part_stream` for a whole `multipart/related` body. */
export function readDocMultipart(type: ParsedHeader, body: Buffer): CouchDoc {
  const boundary = type.params.get('boundary');
  const [jsonPart, ...attachmentParts] = parseMultipart(`multipart/related; boundary="${boundary ?? ''}"`, body);
  if (jsonPart === undefined || jsonPart.headers.get('content-type')?.value !== 'application/json') {
    throw new Error('bad_ctype: Content-Type must be application/json');
  }
  const doc = docFromJson(JSON.parse(jsonPart.body.toString('utf8')));
  const stream = Buffer.concat(attachmentParts.map((part) => part.body));
  let offset = 0;
  const atts = doc.atts.map((att) => {
    if (att.data !== 'follows') return att;
    const data = stream.subarray(offset, offset + att.encodedLength);
    if (data.length !== att.encodedLength) throw new Error(`attachment ${att.name}: ${data.length} of ${att.encodedLength} bytes in the body`);
    offset += att.encodedLength;
    return { ...att, data: Buffer.from(data) };
  });
  if (offset !== stream.length) throw new Error(`${stream.length - offset} attachment bytes no follows attachment claims`);
  return { ...doc, atts };
}
