/**
 * CouchDB's URL rules (chttpd + mochiweb):
 *
 * - every `%` must start a valid `%XX` escape, anywhere in the URI, else 400
 *   `bad_request` "invalid_url_encoding" (checked before authentication);
 * - the path is split on `/` *before* decoding, so `%2F` stays inside a
 *   segment (`/a%2Fb` is the one database `a/b`), and empty segments vanish;
 * - each segment is then decoded with `+` meaning a space (CouchDB's default
 *   `decode_plus_to_space = true`); use `%2B` for a plus sign;
 * - query strings decode the same way (`application/x-www-form-urlencoded`).
 */
import { invalidUrlEncoding } from '../core/errors.js';

export interface SplitUrl {
  /** The path, still percent-encoded. */
  readonly rawPath: string;
  /** The query string without `?` ("" if none). */
  readonly rawQuery: string;
}

export function splitUrl(url: string): SplitUrl {
  let rest = url;
  if (!rest.startsWith('/')) {
    // absolute-form request target (`GET http://host/path`), as proxies send
    const schemeEnd = rest.indexOf('://');
    const pathStart = schemeEnd < 0 ? -1 : rest.indexOf('/', schemeEnd + 3);
    rest = pathStart < 0 ? '/' : rest.slice(pathStart);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  return question < 0
    ? { rawPath: rest, rawQuery: '' }
    : { rawPath: rest.slice(0, question), rawQuery: rest.slice(question + 1) };
}

const hexDigit = /[0-9A-Fa-f]/;

export function checkUrlEncoding(url: string): void {
  for (let index = url.indexOf('%'); index >= 0; index = url.indexOf('%', index + 1)) {
    if (!hexDigit.test(url[index + 1] ?? '') || !hexDigit.test(url[index + 2] ?? '')) throw invalidUrlEncoding();
    index += 2;
  }
}

const unescapedComponent = /^[A-Za-z0-9_.~$()\-]*$/;

/** Decodes `%XX` escapes and `+` (as a space) to bytes, then UTF-8 (invalid sequences become U+FFFD). */
export function decodeComponent(encoded: string): string {
  if (unescapedComponent.test(encoded)) return encoded;
  return decodeComponentBytes(encoded).toString('utf8');
}

export function decodeComponentBytes(encoded: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < encoded.length; index++) {
    const code = encoded.charCodeAt(index);
    if (code === 0x2b) {
      bytes.push(0x20);
    } else if (code === 0x25 && hexDigit.test(encoded[index + 1] ?? '') && hexDigit.test(encoded[index + 2] ?? '')) {
      bytes.push(parseInt(encoded.slice(index + 1, index + 3), 16));
      index += 2;
    } else if (code < 0x100) {
      // Node hands request targets over as latin1: one char per received byte
      bytes.push(code);
    } else {
      const codePoint = encoded.codePointAt(index) ?? code;
      for (const byte of Buffer.from(String.fromCodePoint(codePoint), 'utf8')) bytes.push(byte);
      if (codePoint > 0xffff) index++;
    }
  }
  return Buffer.from(bytes);
}

/** The decoded, non-empty path segments: `/db/_design/x%2Fy` → `["db", "_design", "x/y"]`. */
export function pathSegments(rawPath: string): string[] {
  const segments: string[] = [];
  for (const part of rawPath.split('/')) if (part.length > 0) segments.push(decodeComponent(part));
  return segments;
}
