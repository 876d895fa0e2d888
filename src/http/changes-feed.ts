/**
 * Reading a `_changes` feed batch by batch, the part every feed type shares:
 * rows rendered as CouchDB renders them, `last_seq` and `pending`.
 *
 * Each `read()` makes a bounded number of storage calls (at most
 * `scanBatchRowsMax` rows each) and returns at most that many rows, so a
 * feed over a large database streams with backpressure instead of
 * buffering. Between reads the reader holds no storage handle.
 *
 * CouchDB's numbers, as the golden transcripts show them (one shard):
 * - `last_seq` is the sequence of the last document examined; once the end
 *   is reached it is at least the update sequence seen when reading started
 *   (`_doc_ids` feeds report it even when the last id matched earlier).
 * - `pending` starts as the count of documents changed after `since` and
 *   drops by one per document examined (`fabric_rpc:changes_enumerator`), so
 *   a filtered scan that reached the end reports 0, a `_doc_ids` feed the
 *   changes it did not look at.
 * - `seq_interval=N`: row i (from 1) carries its seq only when
 *   `(limit - (i - 1)) mod N == 0`, with CouchDB's default limit 10^15.
 */
import { compareRevs } from '../core/rev.js';
import { leaves } from '../core/revtree.js';
import type { ChangeRow } from '../db/changes.js';
import type { Database } from '../db/database.js';
import { renderDoc } from '../db/render.js';
import type { DocRecord } from '../storage/engine.js';
import type { ChangesStyle } from './changes-params.js';
import type { FeedFilter } from './changes-filter.js';
import { selectedRevs } from './changes-filter.js';
import { stringifyJsonValue } from './json.js';

export interface FeedOptions {
  readonly style: ChangesStyle;
  readonly includeDocs: boolean;
  readonly conflicts: boolean;
  readonly descending: boolean;
  readonly filter: FeedFilter;
  /** Rows at most over the whole feed (≤ 0: none). */
  readonly limit: number;
  readonly seqInterval: number | undefined;
}

export interface RenderedRow {
  /** The row's JSON text. */
  readonly json: string;
  /** The `seq` it carries (null under `seq_interval`). */
  readonly seq: number | null;
}

export interface FeedBatch {
  readonly rows: RenderedRow[];
  /** True when nothing more is stored right now (or the limit is reached). */
  readonly atEnd: boolean;
}

export class ChangesReader {
  readonly #db: Database;
  readonly #options: FeedOptions;
  readonly #since: number;
  #cursor: number;
  #remaining: number;
  #rowsSent = 0;
  /** Documents examined so far (`pending` bookkeeping). */
  #examined = 0;

  constructor(db: Database, options: FeedOptions, since: number) {
    this.#db = db;
    this.#options = options;
    // Descending reads start from the end; CouchDB ignores `since` there.
    this.#since = options.descending ? 0 : since;
    this.#cursor = this.#since;
    this.#remaining = Math.max(0, options.limit);
  }

  /** The sequence to report as `last_seq`, and to wait after. */
  get lastSeq(): number {
    return this.#cursor;
  }

  /** True once `limit` rows were sent. */
  get limitReached(): boolean {
    return this.#remaining <= 0;
  }

  get rowsSent(): number {
    return this.#rowsSent;
  }

  /** One bounded batch of rows after the cursor. */
  async read(): Promise<FeedBatch> {
    if (this.#remaining <= 0) return { rows: [], atEnd: true };
    const head = this.#db.currentSeq;
    const want = Math.min(this.#remaining, this.#db.limits.scanBatchRowsMax);
    const picked = this.#options.filter.kind === 'doc_ids' ? await this.#readIds(this.#options.filter.ids, want) : await this.#scan(want);
    if (picked.atEnd && !this.#options.descending) this.#cursor = Math.max(this.#cursor, head);
    const rows: RenderedRow[] = [];
    for (const record of picked.records) {
      const revs = await selectedRevs(this.#db, this.#options.filter, record, this.#options.style);
      if (revs !== undefined && revs.length === 0) continue;
      rows.push(await this.#render(record, revs));
    }
    this.#remaining -= rows.length;
    return { rows, atEnd: picked.atEnd || this.#remaining <= 0 };
  }

  async #scan(want: number): Promise<{ records: DocRecord[]; atEnd: boolean }> {
    const filter = this.#options.filter.kind === 'design' ? isDesignRecord : undefined;
    const page = await this.#db.changes({
      since: this.#cursor,
      limit: want,
      descending: this.#options.descending,
      // include_docs and _selector read each winner's body: fetch them with the scan.
      withWinningBodies: this.#options.includeDocs || this.#options.filter.kind === 'selector',
      ...(filter !== undefined ? { filter } : {}),
    });
    // For descending feeds `pending` only needs to know whether anything was examined.
    if (page.lastSeq !== this.#cursor) this.#examined += 1;
    this.#cursor = page.lastSeq;
    return { records: page.rows.map((row: ChangeRow) => row.record), atEnd: !page.more };
  }

  /** `_doc_ids`: look the ids up (bounded batches) instead of scanning the database. */
  async #readIds(ids: readonly string[], want: number): Promise<{ records: DocRecord[]; atEnd: boolean }> {
    const found: DocRecord[] = [];
    const batch = this.#db.limits.scanBatchRowsMax;
    for (let start = 0; start < ids.length; start += batch) {
      for (const record of await this.#db.records(ids.slice(start, start + batch))) {
        if (record !== undefined && (this.#options.descending || record.seq > this.#cursor)) found.push(record);
      }
    }
    found.sort((a, b) => (this.#options.descending ? b.seq - a.seq : a.seq - b.seq));
    const records = found.slice(0, want);
    this.#examined += records.length;
    const atEnd = records.length === found.length;
    const last = records[records.length - 1];
    if (last !== undefined) this.#cursor = last.seq;
    if (this.#options.descending) this.#remaining = Math.min(this.#remaining, records.length); // one pass only
    return { records, atEnd };
  }

  /** `revs`: the leaves a `_selector` filter let through (default: all of them). */
  async #render(record: DocRecord, revs?: readonly string[]): Promise<RenderedRow> {
    const index = this.#rowsSent;
    this.#rowsSent += 1;
    const interval = this.#options.seqInterval;
    const seq = interval === undefined || (this.#options.limit - index) % interval === 0 ? record.seq : null;
    let json = `{"seq":${seq === null ? 'null' : String(seq)},"id":${stringifyJsonValue(record.id)},"changes":${changesJson(record, this.#options.style, revs)}`;
    if (record.deleted) json += ',"deleted":true';
    if (this.#options.includeDocs) {
      const doc = await this.#db.readRecord(record, this.#options.conflicts ? { conflicts: true } : {});
      json += `,"doc":${renderDoc(doc)}`;
    }
    return { json: `${json}}`, seq };
  }

  /** `pending` after the rows read so far (see the module comment). */
  async pending(): Promise<number> {
    if (this.#options.filter.kind === 'doc_ids') {
      return Math.max(0, (await this.#db.pendingAfter(this.#since)) - this.#examined);
    }
    if (!this.#options.descending) return this.#db.pendingAfter(this.#cursor);
    const total = await this.#db.pendingAfter(0);
    if (this.#examined === 0) return total;
    return total - (await this.#db.pendingAfter(this.#cursor - 1));
  }
}

function isDesignRecord(record: DocRecord): boolean {
  return record.id.startsWith('_design/');
}

/** `changes`: the winner, or with `all_docs` every leaf in CouchDB's order (live first, then newest). */
function changesJson(record: DocRecord, style: ChangesStyle, revs?: readonly string[]): string {
  if (style === 'main_only') return `[{"rev":${stringifyJsonValue(record.winningRev)}}]`;
  const kept = revs === undefined ? leaves(record.tree) : leaves(record.tree).filter((leaf) => revs.includes(`${leaf.pos}-${leaf.hash}`));
  const sorted = kept.sort((a, b) => {
    if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
    return -compareRevs(a, b);
  });
  return `[${sorted.map((leaf) => `{"rev":${stringifyJsonValue(`${leaf.pos}-${leaf.hash}`)}}`).join(',')}]`;
}
