/**
 * The changes feed: documents by sequence, one row per document at the
 * sequence of its latest change, and waiting for new changes.
 */
import { conflicts, leaves } from '../core/revtree.js';
import type { DatabaseStore, DocRecord } from '../storage/engine.js';

export interface ChangesQuery {
  /** Rows after this sequence (before it, when descending; 0 with descending = from the end). */
  readonly since: number;
  readonly limit: number;
  readonly descending?: boolean;
  /** `all_docs`: every leaf in `changes`; `main_only` (default): the winner. */
  readonly style?: 'main_only' | 'all_docs';
  /** Keep only rows for which this returns true (called for every examined row). */
  readonly filter?: (record: DocRecord) => boolean;
  /** Read each record's winning body with it (`include_docs`): see `DocRecord.winningBody`. */
  readonly withWinningBodies?: boolean;
}

export interface ChangeRow {
  readonly seq: number;
  readonly id: string;
  readonly changes: readonly { readonly rev: string }[];
  readonly deleted: boolean;
  readonly record: DocRecord;
}

export interface ChangesPage {
  readonly rows: ChangeRow[];
  /** Sequence of the last examined change (`since` when none). */
  readonly lastSeq: number;
  /** Whether the store may hold more rows after `lastSeq`. */
  readonly more: boolean;
}

/**
 * Reads one page of changes, examining at most `batchRowsMax` records per
 * storage call and stopping once `limit` rows matched.
 */
export async function readChanges(store: DatabaseStore, query: ChangesQuery, batchRowsMax: number): Promise<ChangesPage> {
  const rows: ChangeRow[] = [];
  let cursor = query.since;
  let more = true;
  while (rows.length < query.limit) {
    const want = Math.min(batchRowsMax, query.filter === undefined ? query.limit - rows.length : batchRowsMax);
    const records = await store.changes({
      since: cursor,
      descending: query.descending ?? false,
      limit: want,
      withWinningBodies: query.withWinningBodies ?? false,
    });
    for (const record of records) {
      cursor = record.seq;
      if (query.filter !== undefined && !query.filter(record)) continue;
      rows.push(changeRow(record, query.style ?? 'main_only'));
      if (rows.length >= query.limit) break;
    }
    if (records.length < want) {
      more = false;
      break;
    }
  }
  return { rows, lastSeq: cursor, more };
}

/** The change row of a record: its winner, or every leaf with `all_docs`. */
export function changeRow(record: DocRecord, style: 'main_only' | 'all_docs'): ChangeRow {
  const changes =
    style === 'all_docs'
      ? leaves(record.tree).map((leaf) => ({ rev: `${leaf.pos}-${leaf.hash}` }))
      : [{ rev: record.winningRev }];
  return { seq: record.seq, id: record.id, changes, deleted: record.deleted, record };
}

/** `_conflicts` of a record's winner, for `conflicts=true` on feeds. */
export function recordConflicts(record: DocRecord): string[] {
  return conflicts(record.tree).conflicts;
}

export function isWinnerDeleted(record: DocRecord): boolean {
  return record.deleted;
}

/**
 * Waiters for a database's next change. Holds nothing per waiter but a
 * callback and a timer, so thousands of idle feeds cost little; no storage
 * handle is held while waiting.
 */
export class ChangeNotifier {
  private readonly waiters = new Set<(updateSeq: number) => void>();
  private closedWith: Error | undefined;

  /**
   * Resolves `true` once a change after `since` is committed, `false` on
   * timeout or abort; rejects once the notifier is closed (database deleted,
   * server shutting down), so feeds end instead of waiting on.
   */
  waitAfter(since: number, currentSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (currentSeq > since) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      const finish = (value: boolean | Error): void => {
        clearTimeout(timer);
        this.waiters.delete(onChange);
        signal?.removeEventListener('abort', onAbort);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onChange = (updateSeq: number): void => {
        if (this.closedWith !== undefined) finish(this.closedWith);
        else if (updateSeq > since) finish(true);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  notify(updateSeq: number): void {
    for (const waiter of [...this.waiters]) waiter(updateSeq);
  }

  /** Ends every wait, now and later, with `reason`. */
  close(reason: Error): void {
    this.closedWith ??= reason;
    this.notify(-1);
  }

  get waiting(): number {
    return this.waiters.size;
  }
}

