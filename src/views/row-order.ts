/**
 * The order of view rows, and finding key ranges in a sorted row array.
 *
 * CouchDB sorts a view's rows by key with its view collation (ICU for
 * strings, `core/collation.ts`), and rows whose keys collate equal by
 * document id compared as raw bytes (UTF-8 byte order, which is code point
 * order), not by ICU: `"d10"` before `"d9"`, `"B"` before `"a"`. Strings
 * that ICU calls equal without being identical (`"a"`, `"a\u0000"`) then
 * keep a fixed order (`compareJson`), and what is still equal (`1` and `1.0`
 * from one document) the order the document emitted it in, so sorting is
 * deterministic.
 *
 * Range bounds are `{key, docId}` pairs as in CouchDB's btree folds: a
 * missing document-id bound is `docIdMin` (the empty binary, before every id)
 * or `docIdMax` (CouchDB's `<<255>>`, after every id). Only the key collation
 * and the id take part in bound comparisons, so every bound splits the sorted
 * array in two and a binary search finds it.
 */
import { collateJson, compareCodePoints, compareJson } from '../core/collation.js';
import type { JsonValue } from '../core/json-value.js';

export interface ViewRow {
  readonly key: JsonValue;
  /** The id of the document that emitted the row. */
  readonly id: string;
  readonly value: JsonValue;
  /** Position of the row among the document's emits for this view (ties). */
  readonly emitIndex: number;
}

/** The empty id: before every document id. */
export const docIdMin = '';
/** After every document id (CouchDB's `<<255>>`, which no UTF-8 id reaches). */
export const docIdMax: unique symbol = Symbol('docIdMax');

export type DocIdBound = string | typeof docIdMax;

export interface RowBound {
  readonly key: JsonValue;
  readonly docId: DocIdBound;
}

/** Two id bounds (or ids) by code point, `docIdMax` above all. */
export function compareBoundIds(a: DocIdBound, b: DocIdBound): number {
  if (a === docIdMax) return b === docIdMax ? 0 : 1;
  if (b === docIdMax) return -1;
  return compareCodePoints(a, b);
}

/** The total order of rows in a view index. */
export function compareRows(a: ViewRow, b: ViewRow): number {
  const byKey = collateJson(a.key, b.key);
  if (byKey !== 0) return byKey;
  const byId = compareCodePoints(a.id, b.id);
  if (byId !== 0) return byId;
  const exact = compareJson(a.key, b.key);
  return exact !== 0 ? exact : a.emitIndex - b.emitIndex;
}

/** A row against a bound: negative when the row sorts before it. */
export function compareRowToBound(row: ViewRow, bound: RowBound): number {
  const byKey = collateJson(row.key, bound.key);
  return byKey !== 0 ? byKey : compareBoundIds(row.id, bound.docId);
}

/** Index of the first row not before `bound` (rows.length if none). */
export function firstAtOrAfter(rows: readonly ViewRow[], bound: RowBound): number {
  return search(rows, (row) => compareRowToBound(row, bound) >= 0);
}

/** Index of the first row after `bound` (rows.length if none). */
export function firstAfter(rows: readonly ViewRow[], bound: RowBound): number {
  return search(rows, (row) => compareRowToBound(row, bound) > 0);
}

/** The first index whose row satisfies `isAtOrPast`, which must hold for a suffix of `rows`. */
function search(rows: readonly ViewRow[], isAtOrPast: (row: ViewRow) => boolean): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isAtOrPast(rows[middle] as ViewRow)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * Merges two sorted row arrays into a new one (neither input is changed):
 * how an index applies a batch of new rows to the rows it kept.
 */
export function mergeRows(kept: readonly ViewRow[], added: readonly ViewRow[]): ViewRow[] {
  if (added.length === 0) return kept.slice();
  if (kept.length === 0) return added.slice();
  const merged: ViewRow[] = new Array<ViewRow>(kept.length + added.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < kept.length && j < added.length) {
    const a = kept[i] as ViewRow;
    const b = added[j] as ViewRow;
    if (compareRows(a, b) <= 0) {
      merged[k++] = a;
      i++;
    } else {
      merged[k++] = b;
      j++;
    }
  }
  while (i < kept.length) merged[k++] = kept[i++] as ViewRow;
  while (j < added.length) merged[k++] = added[j++] as ViewRow;
  return merged;
}
