/**
 * One `Range: bytes=…` of an attachment request (CouchDB honours a single
 * range of identity-stored attachments). `first-last`, `first-` and
 * `-suffix` forms; a last byte past the end is clamped. A range that starts
 * past the end (or is reversed) is 416 `requested_range_not_satisfiable`;
 * a header this does not understand, or several ranges, means the whole body.
 */
import { CouchError } from '../core/errors.js';

export interface ByteRange {
  readonly first: number;
  /** Inclusive. */
  readonly last: number;
}

const rangePattern = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i;

export function rangeNotSatisfiable(): CouchError {
  return new CouchError(416, 'requested_range_not_satisfiable', 'Requested range not satisfiable');
}

/** The range to send, undefined for the whole body; throws 416 when it cannot be satisfied. */
export function byteRange(header: string | undefined, length: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = rangePattern.exec(header);
  if (match === null) return undefined;
  const [, firstText = '', lastText = ''] = match;
  if (firstText === '' && lastText === '') return undefined;
  let first: number;
  let last: number;
  if (firstText === '') {
    const suffix = Number(lastText);
    if (suffix === 0) throw rangeNotSatisfiable();
    first = Math.max(0, length - suffix);
    last = length - 1;
  } else {
    first = Number(firstText);
    last = lastText === '' ? length - 1 : Math.min(Number(lastText), length - 1);
  }
  if (first >= length || first > last) throw rangeNotSatisfiable();
  return { first, last };
}
