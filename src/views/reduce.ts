/**
 * Reducing view rows: grouping by key and computing each group's reduction.
 *
 * Grouping is CouchDB's (`couch_mrview_util:group_rows_fun`): `group=true`
 * puts rows with equal keys together (Erlang `==`, so `1` and `1.0` are one
 * group); `group_level=N` compares array keys by their first N elements
 * (other keys, and arrays shorter than N, whole) and reports the cut key;
 * level 0 makes one group whose key is null. Groups follow the row order, so
 * descending queries give descending groups.
 *
 * JavaScript reduces run in the design document's sandbox with CouchDB's
 * calling convention, `reduce(keys, values, rereduce)` with `keys` as
 * `[key, docId]` pairs: rows are reduced in chunks of `reduceBatchRowsMax`
 * and the partial results rereduced (chunk by chunk, until one is left), as
 * CouchDB reduces btree nodes and then combines them, so functions that only
 * work without rereduce fail here as they would there. Builtins compute
 * directly over all rows (`builtin-reduce.ts`).
 */
import type { JsonValue } from '../core/json-value.js';
import { erlangEquals } from '../query/erlang-text.js';
import { builtinReduceOf, runBuiltinReduce } from './builtin-reduce.js';
import type { GroupLevel } from './params.js';
import type { ViewRow } from './row-order.js';
import type { ViewSandbox } from './sandbox.js';

/** Rows (or partial reductions) per call into a JavaScript reduce function. */
export const reduceBatchRowsMax = 1000;

/** Computes the reduction of a group of rows. */
export type RowsReducer = (rows: readonly ViewRow[]) => JsonValue;

export interface ReducedRow {
  readonly key: JsonValue;
  readonly value: JsonValue;
}

/** A reducer for a view's reduce source: a builtin, or a compiled JavaScript function of `sandbox`. */
export interface JavaScriptReduce {
  readonly sandbox: ViewSandbox;
  readonly funIndex: number;
  /** Rows per call (default `reduceBatchRowsMax`; tests use small ones to force rereduce). */
  readonly batchRowsMax?: number;
}

export function rowsReducer(source: string, javascript: JavaScriptReduce | undefined): RowsReducer {
  const builtin = builtinReduceOf(source);
  if (builtin !== undefined) return (rows) => runBuiltinReduce(builtin, rows);
  if (javascript === undefined) throw new Error('assertion failed: a JavaScript reduce needs its compiled function');
  const { sandbox, funIndex } = javascript;
  const batch = Math.max(2, javascript.batchRowsMax ?? reduceBatchRowsMax);
  return (rows) => {
    let partials: JsonValue[] = [];
    for (let start = 0; start < rows.length; start += batch) {
      const chunk = rows.slice(start, start + batch);
      const keys = chunk.map((row): JsonValue => [row.key, row.id]);
      partials.push(sandbox.reduce(funIndex, keys, chunk.map((row) => row.value), false));
    }
    while (partials.length > 1) {
      const next: JsonValue[] = [];
      for (let start = 0; start < partials.length; start += batch) {
        next.push(sandbox.reduce(funIndex, null, partials.slice(start, start + batch), true));
      }
      partials = next;
    }
    return partials[0] ?? null;
  };
}

/** Whether two keys fall in one group at `level`. */
export function sameGroup(a: JsonValue, b: JsonValue, level: GroupLevel): boolean {
  if (level === 0) return true;
  if (level !== 'exact' && Array.isArray(a) && Array.isArray(b) && a.length > 0 && b.length > 0 && a.length >= level && b.length >= level) {
    return erlangEquals(a.slice(0, level), b.slice(0, level), 'arithmetic');
  }
  return erlangEquals(a, b, 'arithmetic');
}

/** The key a group reports. */
export function groupKey(key: JsonValue, level: GroupLevel): JsonValue {
  if (level === 0) return null;
  if (level !== 'exact' && Array.isArray(key)) return key.slice(0, level);
  return key;
}

/**
 * The reduced rows of `rows` (already in answer order), lazily: a group's
 * reduction is computed only when the consumer gets that far.
 */
export function* groupAndReduce(rows: Iterable<ViewRow>, level: GroupLevel, reducer: RowsReducer): Generator<ReducedRow> {
  let group: ViewRow[] = [];
  for (const row of rows) {
    const first = group[0];
    if (first !== undefined && !sameGroup(first.key, row.key, level)) {
      yield { key: groupKey(first.key, level), value: reducer(group) };
      group = [];
    }
    group.push(row);
  }
  const first = group[0];
  if (first !== undefined) yield { key: groupKey(first.key, level), value: reducer(group) };
}
