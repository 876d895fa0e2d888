/**
 * The `offset` of a multi-key view query, as a default CouchDB 3 database
 * reports it.
 *
 * CouchDB splits a database into shards (`q=2` by default: documents whose
 * id's CRC-32 is below 2^31 in one, the rest in the other). For `keys`
 * queries each shard reports, as its offset, the number of its own rows
 * before the first row it finds (trying the keys in order), or, when it finds
 * none, before the last key; the coordinator adds them up. So the offset of
 * `keys=["daikon","apple"]` is not the rows before "daikon" in the whole view
 * but a sum that depends on where the documents hashed. Settee keeps one
 * copy of each view and reproduces that sum from the document ids, because
 * clients and the compatibility recordings see it. (Single ranges are not
 * affected: the per-shard counts add up to the plain count.)
 */
import type { ViewRow } from './row-order.js';

/** Shards of a default CouchDB 3 database. */
export const defaultShardCount = 2;

const crcTable: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const utf8 = new TextEncoder();

/** CRC-32 (as zlib and Erlang's `erlang:crc32` compute it) of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of utf8.encode(text)) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The shard (0 or 1) CouchDB's default layout puts a document in. */
export function shardOf(docId: string): number {
  return Math.floor(crc32(docId) / 2 ** 32 * defaultShardCount);
}

/** One key's rows: ascending indexes `[start, end)` of the sorted view. */
export interface KeySpan {
  readonly start: number;
  readonly end: number;
}

/**
 * The summed per-shard offsets (before `skip`) of a keys query whose key
 * spans, in query order, are `spans`, over the view's sorted `rows`.
 */
export function keysQueryOffset(rows: readonly ViewRow[], spans: readonly KeySpan[], descending: boolean): number {
  const last = spans[spans.length - 1];
  if (last === undefined) return 0;
  const shards = new Map<string, number>();
  const shard = (row: ViewRow): number => {
    let found = shards.get(row.id);
    if (found === undefined) {
      found = shardOf(row.id);
      shards.set(row.id, found);
    }
    return found;
  };
  let total = 0;
  for (let s = 0; s < defaultShardCount; s++) {
    // Where this shard's fold first met a row, as a position in fold order.
    let position: number | undefined;
    for (const span of spans) {
      if (descending) {
        for (let i = span.end - 1; i >= span.start && position === undefined; i--) if (shard(rows[i] as ViewRow) === s) position = i;
      } else {
        for (let i = span.start; i < span.end && position === undefined; i++) if (shard(rows[i] as ViewRow) === s) position = i;
      }
      if (position !== undefined) break;
    }
    // Rows of this shard before that point (or before the last key), in fold order.
    const [from, to] =
      position !== undefined ? (descending ? [position + 1, rows.length] : [0, position]) : descending ? [last.end, rows.length] : [0, last.start];
    for (let i = from; i < to; i++) if (shard(rows[i] as ViewRow) === s) total++;
  }
  return total;
}
