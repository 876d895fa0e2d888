/**
 * `multipart/*` bodies as CouchDB frames them, and the `Accept` test that
 * decides whether a client gets one.
 *
 * `open_revs` without `Accept: application/json` answers `multipart/mixed`
 * (what CouchDB's replicator reads): the body starts with `--B`, every part
 * is `\r\nContent-Type: …\r\n\r\n<body>\r\n--B`, and the body ends with
 * `--`. A part is a revision's JSON, or a nested `multipart/related` body
 * when it has attachments to send; a missing revision is a part typed
 * `application/json; error="true"` holding `{"missing":"<rev>"}`.
 */
import { randomBytes } from 'node:crypto';

export interface MultipartPart {
  readonly contentType: string;
  readonly body: string | Buffer;
}

/** A fresh boundary: 32 hex digits, like CouchDB's `couch_uuids:random()`. */
export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

export function multipartMixedContentType(boundary: string): string {
  return `multipart/mixed; boundary="${boundary}"`;
}

/** The whole `multipart/mixed` body of `parts`, framed as CouchDB's `send_docs_multipart` writes it. */
export function multipartMixedBody(boundary: string, parts: readonly MultipartPart[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`--${boundary}`, 'utf8')];
  for (const part of parts) {
    chunks.push(Buffer.from(`\r\nContent-Type: ${part.contentType}\r\n\r\n`, 'utf8'));
    chunks.push(typeof part.body === 'string' ? Buffer.from(part.body, 'utf8') : part.body);
    chunks.push(Buffer.from(`\r\n--${boundary}`, 'utf8'));
  }
  chunks.push(Buffer.from('--', 'utf8'));
  return Buffer.concat(chunks);
}

interface MediaRange {
  readonly type: string;
  readonly quality: number;
}

function parseAccept(header: string): MediaRange[] | undefined {
  const ranges: MediaRange[] = [];
  for (const item of header.split(',')) {
    const [typePart, ...params] = item.split(';');
    const type = (typePart ?? '').trim().toLowerCase();
    if (type.length === 0) continue;
    let quality = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((text) => text.trim());
      if (name !== 'q') continue;
      if (value === undefined || !/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.test(value)) return undefined;
      quality = Number(value);
    }
    ranges.push({ type, quality });
  }
  return ranges;
}

/**
 * mochiweb's `accepts_content_type`: no `Accept` header accepts anything;
 * otherwise `*\/*`, the type or its `main/*` must be listed with q > 0 and
 * neither the type nor `main/*` refused with q = 0.
 */
export function acceptsContentType(acceptHeader: string | undefined, contentType: string): boolean {
  if (acceptHeader === undefined) return true;
  const ranges = parseAccept(acceptHeader);
  if (ranges === undefined) return false;
  const wanted = contentType.toLowerCase();
  const superType = `${wanted.split('/')[0] ?? ''}/*`;
  const accepted = ranges.some(
    (range) => range.quality > 0 && (range.type === '*/*' || range.type === wanted || range.type === superType),
  );
  const refused = ranges.some((range) => range.quality === 0 && (range.type === wanted || range.type === superType));
  return accepted && !refused;
}
