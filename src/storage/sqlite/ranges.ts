/**
 * SQL for the key ranges of `_all_docs`-style reads (`startKey`, `endKey`,
 * `inclusiveEnd`, `descending`), shared by the catalog, docs and locals.
 * Column comparisons use SQLite's BINARY collation: memcmp of UTF-8, which is
 * code-point order.
 */
export interface KeyRange {
  readonly startKey?: string;
  readonly endKey?: string;
  readonly inclusiveEnd?: boolean;
  readonly descending?: boolean;
}

export interface RangeSql {
  /** `WHERE …` or the empty string. */
  readonly where: string;
  readonly params: string[];
  readonly order: 'ASC' | 'DESC';
}

export function idRangeSql(column: string, range: KeyRange): RangeSql {
  const descending = range.descending === true;
  const conditions: string[] = [];
  const params: string[] = [];
  if (range.startKey !== undefined) {
    conditions.push(`${column} ${descending ? '<=' : '>='} ?`);
    params.push(range.startKey);
  }
  if (range.endKey !== undefined) {
    const inclusive = range.inclusiveEnd !== false;
    conditions.push(`${column} ${descending ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<'} ?`);
    params.push(range.endKey);
  }
  return {
    where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`,
    params,
    order: descending ? 'DESC' : 'ASC',
  };
}
