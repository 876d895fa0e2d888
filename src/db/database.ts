/**
 * One database: documents with MVCC, the changes feed, local documents,
 * properties, compaction and purge. The same object serves embedded callers
 * and the HTTP API; it speaks in CouchErrors and plain records, never HTTP.
 */
import { badRequest, serviceUnavailable } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { Rev } from '../core/rev.js';
import { formatRev, parseRev } from '../core/rev.js';
import { revsDiff, winner } from '../core/revtree.js';
import { removeLeaves } from '../core/revtree-purge.js';
import type {
  DatabaseProperties,
  DatabaseStore,
  DocRecord,
  LocalDoc,
  PurgedInfo,
  PurgeRequest,
  RecordReadOptions,
} from '../storage/engine.js';
import { ChangeNotifier, changeRow, readChanges } from './changes.js';
import { readLocal, removeLocal, writeLocal } from './local-docs.js';
import type { LocalPut, LocalWriteResult } from './local-docs.js';
import type { ChangesPage, ChangesQuery } from './changes.js';
import type { DocUpdate } from './document.js';
import { openRevs, readDoc } from './read-doc.js';
import { renderDoc } from './render.js';
import { parseJson } from '../core/json-parse.js';
import { isJsonObject, type JsonObject } from '../core/json-value.js';
import type { DocRevision, OpenRevsOptions, OpenRevsResult, ReadOptions } from './read-doc.js';
import { DatabaseWriter } from './writer.js';
import type { UpdateResult } from './writer.js';

export interface DatabaseInfo {
  readonly db_name: string;
  readonly purge_seq: number;
  readonly update_seq: number;
  readonly sizes: { readonly file: number; readonly external: number; readonly active: number };
  readonly props: Record<string, never>;
  readonly doc_del_count: number;
  readonly doc_count: number;
  readonly disk_format_version: number;
  readonly compact_running: boolean;
  readonly cluster: { readonly q: number; readonly n: number; readonly w: number; readonly r: number };
  readonly instance_start_time: string;
}

export interface AllDocsQuery {
  readonly startKey?: string;
  readonly endKey?: string;
  readonly inclusiveEnd?: boolean;
  readonly descending?: boolean;
  readonly limit: number;
  readonly skip: number;
  /** Read each record's winning body with it (`include_docs`): see `DocRecord.winningBody`. */
  readonly withWinningBodies?: boolean;
}

export interface LocalDocsQuery {
  readonly startKey?: string;
  /** Continue strictly after this id (a later page); wins over `startKey`. */
  readonly afterKey?: string;
  readonly endKey?: string;
  readonly inclusiveEnd?: boolean;
  readonly descending?: boolean;
  readonly limit: number;
  readonly skip?: number;
}

/** The id range holding design documents: `_design/` up to (not including) `_design0`. */
const designRangeStart = '_design/';
const designRangeEnd = '_design0';

export interface RevsDiffEntry {
  readonly missing: string[];
  readonly possible_ancestors?: string[];
}

export class Database {
  readonly name: string;
  readonly store: DatabaseStore;
  readonly limits: Limits;
  readonly notifier = new ChangeNotifier();
  private readonly writer: DatabaseWriter;
  private props: DatabaseProperties;
  private updateSeq: number;
  private compacting: Promise<void> | undefined;
  /**
   * Set when the Couch dropped this object from its cache while idle: a
   * caller still holding it is forwarded to the current object, so a database
   * never has two writers.
   */
  private successor: (() => Promise<Database>) | undefined;

  private constructor(name: string, store: DatabaseStore, limits: Limits, props: DatabaseProperties, updateSeq: number) {
    this.name = name;
    this.store = store;
    this.limits = limits;
    this.props = props;
    this.updateSeq = updateSeq;
    this.writer = new DatabaseWriter(store, limits, {
      revsLimit: () => this.props.revsLimit,
      committed: (seq) => {
        this.updateSeq = seq;
        this.notifier.notify(seq);
      },
    });
  }

  static async open(name: string, store: DatabaseStore, limits: Limits): Promise<Database> {
    const [props, info] = await Promise.all([store.properties(), store.info()]);
    return new Database(name, store, limits, props, info.updateSeq);
  }

  /** The last committed sequence, from memory. */
  get currentSeq(): number {
    return this.updateSeq;
  }

  get idle(): boolean {
    return this.writer.pendingDocs === 0 && !this.writer.busy && this.notifier.waiting === 0 && this.compacting === undefined;
  }

  /** Called by the Couch when it drops this idle object; later calls go to `next()`. */
  retire(next: () => Promise<Database>): void {
    this.successor = next;
  }

  async info(): Promise<DatabaseInfo> {
    const info = await this.store.info();
    return {
      db_name: this.name,
      purge_seq: info.purgeSeq,
      update_seq: info.updateSeq,
      sizes: { file: info.fileBytes, external: info.activeBytes, active: info.activeBytes },
      props: {},
      doc_del_count: info.docDelCount,
      doc_count: info.docCount,
      disk_format_version: 8,
      compact_running: this.compacting !== undefined,
      cluster: { q: 1, n: 1, w: 1, r: 1 },
      instance_start_time: '0',
    };
  }

  // ---- writes ----

  /** Applies edits (interactive or replicated), one result per update, once durable. */
  updateDocs(updates: readonly DocUpdate[], options: { newEdits?: boolean } = {}): Promise<UpdateResult[]> {
    if (this.successor !== undefined) return this.successor().then((db) => db.updateDocs(updates, options));
    if (updates.length > this.limits.bulkDocsMax) {
      return Promise.reject(badRequest(`Too many documents in one request (at most ${this.limits.bulkDocsMax}).`));
    }
    return this.writer.submit({ updates, newEdits: options.newEdits ?? true });
  }

  /** One interactive edit; throws its error (409, …) instead of returning it. */
  async updateDoc(update: DocUpdate, options: { newEdits?: boolean } = {}): Promise<{ id: string; rev: string }> {
    const [result] = await this.updateDocs([update], options);
    if (result === undefined) throw new Error('assertion failed: writer returned no result');
    if (!result.ok) throw result.error;
    return { id: result.id, rev: result.rev };
  }

  /** Resolves once every queued write is durable. */
  flushed(): Promise<void> {
    return this.writer.idle();
  }

  // ---- reads ----

  async record(id: string): Promise<DocRecord | undefined> {
    const [record] = await this.store.getDocs([id]);
    return record;
  }

  /** Records of several documents, in request order (undefined where missing). */
  async records(ids: readonly string[], options: RecordReadOptions = {}): Promise<(DocRecord | undefined)[]> {
    return this.store.getDocs(ids, options);
  }

  async getDoc(id: string, options: ReadOptions = {}): Promise<DocRevision> {
    // The winner's record and body in one storage read.
    const [record] = await this.store.getDocs([id], { withWinningBodies: options.rev === undefined });
    return readDoc(this.store, record, options);
  }

  /**
   * A document revision from a record already in hand (`_all_docs`/`_changes`
   * with `include_docs`). Without `rev`, a deleted winner is read too
   * (`{"_id","_rev","_deleted":true}`) instead of 404.
   */
  async readRecord(record: DocRecord, options: ReadOptions = {}): Promise<DocRevision> {
    if (options.rev !== undefined || !record.deleted) return readDoc(this.store, record, options);
    // A tombstone winner is read as the revision it is, without the winner-only metadata.
    return readDoc(this.store, record, { ...options, rev: parseRev(record.winningRev) });
  }

  async openRevs(id: string, revs: 'all' | readonly Rev[], options: OpenRevsOptions = {}): Promise<OpenRevsResult[]> {
    return openRevs(this.store, await this.record(id), revs, options);
  }

  /** Live documents in id order; deleted ones are skipped, as `_all_docs` does. */
  async allDocs(query: AllDocsQuery): Promise<{ totalRows: number; offset: number; records: DocRecord[] }> {
    const info = await this.store.info();
    const descending = query.descending ?? false;
    const records: DocRecord[] = [];
    let skip = query.skip;
    let startKey = query.startKey;
    let exclusiveStart = false;
    const batch = this.limits.scanBatchRowsMax;
    while (records.length < query.limit) {
      const scanned = await this.store.scanDocs({
        ...(startKey !== undefined ? { startKey } : {}),
        ...(query.endKey !== undefined ? { endKey: query.endKey } : {}),
        inclusiveEnd: query.inclusiveEnd ?? true,
        descending,
        limit: batch,
        withWinningBodies: query.withWinningBodies ?? false,
      });
      for (const record of scanned) {
        if (exclusiveStart && record.id === startKey) continue;
        if (record.deleted) continue;
        if (skip > 0) {
          skip--;
          continue;
        }
        records.push(record);
        if (records.length >= query.limit) break;
      }
      if (scanned.length < batch) break;
      startKey = (scanned[scanned.length - 1] as DocRecord).id;
      exclusiveStart = true;
    }
    const before = query.startKey === undefined ? 0 : await this.store.countDocsBefore(query.startKey, descending);
    const offset = Math.min(before + query.skip, info.docCount);
    return { totalRows: info.docCount, offset, records };
  }

  /**
   * The next live documents strictly after `afterId` in scan order, up to
   * `limit`: the pages of a streamed `_all_docs` after the first (no counting).
   */
  async liveDocsAfter(afterId: string, query: Omit<AllDocsQuery, 'startKey' | 'skip'>): Promise<DocRecord[]> {
    const records: DocRecord[] = [];
    let startKey = afterId;
    const batch = this.limits.scanBatchRowsMax;
    while (records.length < query.limit) {
      const scanned = await this.store.scanDocs({
        startKey,
        ...(query.endKey !== undefined ? { endKey: query.endKey } : {}),
        inclusiveEnd: query.inclusiveEnd ?? true,
        descending: query.descending ?? false,
        limit: batch,
        withWinningBodies: query.withWinningBodies ?? false,
      });
      for (const record of scanned) {
        if (record.id === startKey || record.deleted) continue;
        records.push(record);
        if (records.length >= query.limit) break;
      }
      if (scanned.length < batch) break;
      startKey = (scanned[scanned.length - 1] as DocRecord).id;
    }
    return records;
  }

  /** Live design documents (`_design_docs`' `total_rows`). */
  async designDocCount(): Promise<number> {
    let count = 0;
    let startKey = designRangeStart;
    let first = true;
    const batch = this.limits.scanBatchRowsMax;
    for (;;) {
      const scanned = await this.store.scanDocs({ startKey, endKey: designRangeEnd, inclusiveEnd: false, limit: batch });
      for (const record of scanned) {
        if (!first && record.id === startKey) continue;
        if (!record.deleted) count++;
      }
      if (scanned.length < batch) return count;
      startKey = (scanned[scanned.length - 1] as DocRecord).id;
      first = false;
    }
  }

  /** `_local` documents in id order (`afterKey`: continue strictly after it), for `_local_docs`. */
  async localDocs(query: LocalDocsQuery): Promise<LocalDoc[]> {
    const startKey = query.afterKey ?? query.startKey;
    const scanned = await this.store.scanLocals({
      ...(startKey !== undefined ? { startKey } : {}),
      ...(query.endKey !== undefined ? { endKey: query.endKey } : {}),
      inclusiveEnd: query.inclusiveEnd ?? true,
      descending: query.descending ?? false,
      limit: query.limit + (query.afterKey !== undefined ? 1 : 0),
      skip: query.skip ?? 0,
    });
    const rows = query.afterKey !== undefined ? scanned.filter((doc) => doc.id !== query.afterKey) : scanned;
    return rows.slice(0, query.limit);
  }

  async changes(query: ChangesQuery): Promise<ChangesPage> {
    return readChanges(this.store, query, this.limits.scanBatchRowsMax);
  }

  /** Documents changed after `since`, for `pending`. */
  async pendingAfter(since: number): Promise<number> {
    return this.store.countChanges(since);
  }

  /** Resolves true when a change after `since` is committed, false on timeout/abort. */
  waitForChange(since: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.successor !== undefined) return this.successor().then((db) => db.waitForChange(since, timeoutMs, signal));
    const bounded = Math.min(Math.max(0, timeoutMs), this.limits.changesTimeoutMsMax);
    return this.notifier.waitAfter(since, this.updateSeq, bounded, signal);
  }

  async revsDiff(request: ReadonlyMap<string, readonly Rev[]>): Promise<Map<string, RevsDiffEntry>> {
    const ids = [...request.keys()];
    const records = await this.store.getDocs(ids);
    const result = new Map<string, RevsDiffEntry>();
    ids.forEach((id, index) => {
      const revs = request.get(id) ?? [];
      const record = records[index];
      if (record === undefined) {
        const missing = uniqueSorted(revs);
        if (missing.length > 0) result.set(id, { missing });
        return;
      }
      const diff = revsDiff(record.tree, revs);
      if (diff.missing.length === 0) return;
      const entry: RevsDiffEntry = { missing: uniqueSorted(diff.missing) };
      const ancestors = uniqueSorted(diff.possibleAncestors);
      result.set(id, ancestors.length > 0 ? { ...entry, possible_ancestors: ancestors } : entry);
    });
    return result;
  }

  // ---- properties ----

  /** Properties as last read; a retired object re-reads them from storage. */
  get revsLimit(): number {
    return this.props.revsLimit;
  }

  async setRevsLimit(limit: number): Promise<void> {
    if (this.successor !== undefined) return (await this.successor()).setRevsLimit(limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > this.limits.revsLimitMax) {
      throw badRequest('The revs limit must be a positive integer');
    }
    await this.store.setProperties({ revsLimit: limit });
    this.props = { ...this.props, revsLimit: limit };
  }

  get securityJson(): string {
    return this.props.securityJson;
  }

  async setSecurityJson(json: string): Promise<void> {
    if (this.successor !== undefined) return (await this.successor()).setSecurityJson(json);
    await this.store.setProperties({ securityJson: json });
    this.props = { ...this.props, securityJson: json };
  }

  get purgedInfosLimit(): number {
    return this.props.purgedInfosLimit;
  }

  async setPurgedInfosLimit(limit: number): Promise<void> {
    if (this.successor !== undefined) return (await this.successor()).setPurgedInfosLimit(limit);
    await this.store.setProperties({ purgedInfosLimit: limit });
    this.props = { ...this.props, purgedInfosLimit: limit };
  }

  // ---- maintenance ----

  get compactRunning(): boolean {
    return this.compacting !== undefined;
  }

  /** Starts compaction (if not running) and returns its completion. */
  compact(): Promise<void> {
    if (this.successor !== undefined) return this.successor().then((db) => db.compact());
    if (this.compacting === undefined) {
      this.compacting = this.writer
        .idle()
        .then(() => this.store.compact())
        .finally(() => {
          this.compacting = undefined;
        });
    }
    return this.compacting;
  }

  /** Removes leaf revisions for good. Returns what was purged per id. */
  async purge(request: ReadonlyMap<string, readonly string[]>): Promise<{ purgeSeq: number; purged: Map<string, string[]> }> {
    if (this.successor !== undefined) return (await this.successor()).purge(request);
    await this.writer.idle();
    const ids = [...request.keys()];
    const records = await this.store.getDocs(ids);
    const purged = new Map<string, string[]>();
    const requests: PurgeRequest[] = [];
    ids.forEach((id, index) => {
      const revs = (request.get(id) ?? []).map((rev) => parseRev(rev));
      const record = records[index];
      if (record === undefined) {
        purged.set(id, []);
        return;
      }
      const outcome = removeLeaves(record.tree, revs);
      const purgedRevs = outcome.purged.map(formatRev);
      purged.set(id, purgedRevs);
      if (purgedRevs.length === 0) return;
      if (outcome.tree.length === 0) {
        requests.push({ id, record: null, purgedRevs });
      } else {
        const top = winner(outcome.tree);
        requests.push({
          id,
          record: { id, tree: outcome.tree, winningRev: formatRev(top), deleted: top.deleted, removedRevs: [] },
          purgedRevs,
        });
      }
    });
    const info = await this.store.info();
    if (requests.length === 0) return { purgeSeq: info.purgeSeq, purged };
    const result = await this.store.purge(requests);
    this.updateSeq = result.updateSeq;
    this.notifier.notify(result.updateSeq);
    return { purgeSeq: result.purgeSeq, purged };
  }

  // ---- local documents (never replicated, no tree) ----

  readLocalDoc(id: string): Promise<LocalDoc> {
    return readLocal(this.store, id);
  }

  writeLocalDoc(put: LocalPut): Promise<LocalWriteResult> {
    return writeLocal(this.store, put);
  }

  removeLocalDoc(id: string): Promise<LocalWriteResult> {
    return removeLocal(this.store, id);
  }

  /**
   * Changes of the listed documents only (`filter=_doc_ids`): reads their
   * records directly and orders them by sequence, instead of scanning the feed.
   */
  async changesOfDocs(docIds: readonly string[], query: Omit<ChangesQuery, 'filter'>): Promise<ChangesPage> {
    const records = (await this.store.getDocs([...new Set(docIds)])).filter(
      (record): record is DocRecord =>
        record !== undefined && (query.descending === true ? query.since === 0 || record.seq < query.since : record.seq > query.since),
    );
    records.sort((a, b) => (query.descending === true ? b.seq - a.seq : a.seq - b.seq));
    const rows = records.slice(0, query.limit).map((record) => changeRow(record, query.style ?? 'main_only'));
    const last = rows[rows.length - 1];
    return { rows, lastSeq: last === undefined ? query.since : last.seq, more: records.length > rows.length };
  }

  /**
   * The winning revision of a record already read, as a parsed document the
   * way CouchDB renders it (`_id`, `_rev`, the body, `_deleted` for a
   * tombstone, `_attachments` stubs): what a `_selector` filter matches.
   * Undefined when its body is gone.
   */
  async winnerObject(record: DocRecord): Promise<JsonObject | undefined> {
    const [winning] = await this.revisionObjects(record, [{ rev: record.winningRev, deleted: record.deleted }]);
    return winning?.doc;
  }

  /** Several revisions of a record as parsed documents (see `winnerObject`), in one storage call; missing bodies are left out. */
  async revisionObjects(
    record: DocRecord,
    revisions: readonly { readonly rev: string; readonly deleted: boolean }[],
  ): Promise<{ readonly rev: string; readonly doc: JsonObject }[]> {
    const winning = record.winningBody;
    const bodies =
      winning !== undefined && revisions.every((revision) => revision.rev === winning.rev)
        ? new Map([[winning.rev, winning]])
        : await this.store.getBodies(record.id, revisions.map((revision) => revision.rev));
    const docs: { rev: string; doc: JsonObject }[] = [];
    for (const { rev, deleted } of revisions) {
      const body = bodies.get(rev);
      if (body === undefined) continue;
      const doc = parseJson(renderDoc({ id: record.id, rev, deleted, bodyJson: body.json, attachmentsJson: body.attachmentsJson }));
      if (isJsonObject(doc)) docs.push({ rev, doc });
    }
    return docs;
  }

  /** `open_revs` for a record already read (`_bulk_get` reads many records at once). */
  openRevsOf(record: DocRecord | undefined, revs: 'all' | readonly Rev[], options: OpenRevsOptions = {}): Promise<OpenRevsResult[]> {
    return openRevs(this.store, record, revs, options);
  }

  /** What purges removed, oldest first (at most `purgedInfosLimit` are kept). */
  async purgedInfos(): Promise<PurgedInfo[]> {
    return this.store.purgedInfos();
  }

  async close(): Promise<void> {
    await this.writer.idle();
    this.notifier.close(serviceUnavailable('The database is closed.'));
    await this.store.close();
  }
}

function uniqueSorted(revs: readonly Rev[]): string[] {
  const sorted = [...revs].sort((a, b) => (a.pos !== b.pos ? a.pos - b.pos : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const out: string[] = [];
  for (const rev of sorted) {
    const text = formatRev(rev);
    if (out[out.length - 1] !== text) out.push(text);
  }
  return out;
}

