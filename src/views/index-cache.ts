/**
 * The view indexes a server holds in memory: one per (database instance,
 * design document, signature), kept in least-recently-used order and bounded
 * by `viewIndexesMax` indexes and `viewIndexRowsMax` rows in all. Beyond
 * either bound the least recently used indexes are dropped (never the one a
 * query is about to use) and rebuilt by the next query that needs them.
 *
 * The database instance is its storage uuid, so a database deleted and
 * created again under the same name never sees the old index. A design
 * document edited into a new signature replaces its old index at once.
 *
 * Updates of one index run one after another (a queue per index): a query
 * waits for the catch-up in progress, then catches up with what was written
 * meanwhile. What a query waits for depends on `update`: `true` (default)
 * catches up first; `false` (`stale=ok`) answers from the index as it is;
 * `lazy` (`stale=update_after`) answers first and catches up afterwards. An
 * index that was never built is always built first: Settee has no persisted
 * index to answer from (CouchDB would answer from its file on disk).
 */
import type { Database } from '../db/database.js';
import type { DesignDefinition } from './design.js';
import { bringUpToDate } from './index-updater.js';
import type { ViewUpdateMode } from './params.js';
import { ViewIndex } from './view-index.js';

export interface ViewIndexesOptions {
  /** Indexes kept at most. */
  readonly indexesMax: number;
  /** Rows kept at most, over all indexes (the index in use is kept whatever its size). */
  readonly rowsMax: number;
  /** Bound on one call into a view function (`viewFunctionTimeoutMs`). */
  readonly timeoutMs: number;
  /** Changes read per storage call while updating. */
  readonly pageRowsMax: number;
  /** View function output (`log()`, exceptions), and failures of background updates. */
  readonly log: (message: string) => void;
}

interface Entry {
  readonly key: string;
  /** The database instance and design document: entries with another signature are stale. */
  readonly scope: string;
  readonly index: ViewIndex;
  /** Settles when the last queued update has. */
  queue: Promise<void>;
}

export class ViewIndexes {
  readonly #options: ViewIndexesOptions;
  /** In least-recently-used-first order. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: ViewIndexesOptions) {
    this.#options = options;
  }

  /**
   * The index of `design` in `db`, updated as `update` asks. Throws 400
   * `compilation_error` for a design document whose functions do not compile.
   */
  async open(db: Database, design: DesignDefinition, update: ViewUpdateMode): Promise<ViewIndex> {
    const { uuid } = await db.store.info();
    const scope = `${uuid}\u0000${design.docId}`;
    const key = `${scope}\u0000${design.signature}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      for (const [other, stale] of this.#entries) if (stale.scope === scope) this.#entries.delete(other);
      const log = (message: string): void => this.#options.log(`${db.name}/${design.docId}: ${message}`);
      entry = { key, scope, index: new ViewIndex(design, { timeoutMs: this.#options.timeoutMs, log }), queue: Promise.resolve() };
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (update === 'true' || !entry.index.built) await this.#update(entry, db);
    else if (update === 'lazy') {
      this.#update(entry, db).catch((error: unknown) => {
        this.#options.log(`${db.name}/${design.docId}: background index update failed: ${String(error)}`);
      });
    }
    this.#evict(entry);
    return entry.index;
  }

  /** Indexes held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Rows held, over all indexes. */
  get rowCount(): number {
    let rows = 0;
    for (const entry of this.#entries.values()) rows += entry.index.rowCount;
    return rows;
  }

  /** The cached index of `design` in the database instance `uuid`, if any (no update, no compile). */
  peek(uuid: string, design: DesignDefinition): ViewIndex | undefined {
    return this.#entries.get(`${uuid}\u0000${design.docId}\u0000${design.signature}`)?.index;
  }

  #update(entry: Entry, db: Database): Promise<void> {
    const run = (): Promise<void> => bringUpToDate(entry.index, db, { pageRowsMax: this.#options.pageRowsMax });
    const next = entry.queue.then(run, run);
    entry.queue = next.catch(() => undefined);
    return next;
  }

  /** Drops least recently used indexes beyond the bounds, keeping `inUse`. */
  #evict(inUse: Entry): void {
    let rows = this.rowCount;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.indexesMax && rows <= this.#options.rowsMax) return;
      if (entry === inUse) continue;
      this.#entries.delete(key);
      rows -= entry.index.rowCount;
    }
  }
}
