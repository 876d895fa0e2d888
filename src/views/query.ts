/**
 * Answering a view query from a snapshot of a view's sorted rows: which
 * rows a range or a list of keys selects, in which order, with `skip` and
 * `limit`, and the `total_rows`/`offset` CouchDB reports; or, for a reduce,
 * the grouped reductions.
 *
 * A range `[start, end]` follows CouchDB's btree folds: ascending, rows from
 * the first at or after `{start_key, start_key_docid}` through the last at or
 * before `{end_key, end_key_docid}` (before it, with `inclusive_end=false`);
 * descending, the same walked backwards from `start` down to `end`. `offset`
 * counts the rows before the first one in walk order, plus `skip`, capped at
 * `total_rows` (CouchDB's coordinator: `min(Total, Offset + Skip)`). Keys
 * queries run one such range per key and report the sharded offset of
 * `cluster-offset.ts`.
 */
import type { JsonValue } from '../core/json-value.js';
import { keysQueryOffset, type KeySpan } from './cluster-offset.js';
import type { ViewQuery } from './params.js';
import { groupAndReduce, type ReducedRow, type RowsReducer } from './reduce.js';
import { type DocIdBound, type ViewRow, docIdMax, docIdMin, firstAfter, firstAtOrAfter } from './row-order.js';

export interface MapAnswer {
  readonly totalRows: number;
  readonly offset: number;
  /** The selected rows in answer order (computed while iterated). */
  readonly rows: Iterable<ViewRow>;
}

/** The key range part of a query. */
type RangeQuery = Pick<ViewQuery, 'startKey' | 'endKey' | 'startDocId' | 'endDocId' | 'inclusiveEnd' | 'descending'>;

/** `inclusive_end=false` turns a default id bound around (CouchDB's `reverse_key_default`). */
function reverseDefault(bound: DocIdBound): DocIdBound {
  return bound === docIdMin ? docIdMax : bound === docIdMax ? docIdMin : bound;
}

/** The ascending indexes `[start, end)` a range selects. */
export function rangeSpan(rows: readonly ViewRow[], range: RangeQuery): KeySpan {
  let start: number;
  let end: number;
  const { startKey, endKey } = range;
  if (!range.descending) {
    start = startKey === undefined ? 0 : firstAtOrAfter(rows, { key: startKey, docId: range.startDocId });
    if (endKey === undefined) end = rows.length;
    else if (range.inclusiveEnd) end = firstAfter(rows, { key: endKey, docId: range.endDocId });
    else end = firstAtOrAfter(rows, { key: endKey, docId: reverseDefault(range.endDocId) });
  } else {
    end = startKey === undefined ? rows.length : firstAfter(rows, { key: startKey, docId: range.startDocId });
    if (endKey === undefined) start = 0;
    else if (range.inclusiveEnd) start = firstAtOrAfter(rows, { key: endKey, docId: range.endDocId });
    else start = firstAfter(rows, { key: endKey, docId: reverseDefault(range.endDocId) });
  }
  return { start, end: Math.max(start, end) };
}

/** The spans of a query: one range, or one per key. */
function spansOf(rows: readonly ViewRow[], query: ViewQuery): KeySpan[] {
  if (query.keys === undefined) return [rangeSpan(rows, query)];
  return query.keys.map((key: JsonValue) => rangeSpan(rows, { ...query, startKey: key, endKey: key }));
}

function* walk(rows: readonly ViewRow[], spans: readonly KeySpan[], descending: boolean): Generator<ViewRow> {
  for (const span of spans) {
    if (descending) for (let i = span.end - 1; i >= span.start; i--) yield rows[i] as ViewRow;
    else for (let i = span.start; i < span.end; i++) yield rows[i] as ViewRow;
  }
}

function* page<T>(items: Iterable<T>, skip: number, limit: number | undefined): Generator<T> {
  if (limit === 0) return;
  let skipped = 0;
  let taken = 0;
  for (const item of items) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    yield item;
    taken++;
    if (limit !== undefined && taken >= limit) return;
  }
}

/** A map query (or a reduce view queried with `reduce=false`). */
export function answerMap(rows: readonly ViewRow[], query: ViewQuery): MapAnswer {
  const spans = spansOf(rows, query);
  const totalRows = rows.length;
  let before: number;
  if (query.keys !== undefined) before = keysQueryOffset(rows, spans, query.descending);
  else {
    const span = spans[0] as KeySpan;
    before = query.descending ? rows.length - span.end : span.start;
  }
  return {
    totalRows,
    offset: Math.min(totalRows, before + query.skip),
    rows: page(walk(rows, spans, query.descending), query.skip, query.limit),
  };
}

/**
 * A reduce query: grouped reductions in answer order, after `skip`, up to
 * `limit`; each key of a keys query is grouped on its own.
 */
export function answerReduce(rows: readonly ViewRow[], query: ViewQuery, reducer: RowsReducer): Iterable<ReducedRow> {
  const spans = spansOf(rows, query);
  const groups = function* (): Generator<ReducedRow> {
    for (const span of spans) yield* groupAndReduce(walk(rows, [span], query.descending), query.groupLevel, reducer);
  };
  return page(groups(), query.skip, query.limit);
}
