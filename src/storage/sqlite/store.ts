/**
 * `DatabaseStore` on one SQLite file.
 *
 * A store is a cheap handle: it names its catalog entry and borrows the pooled
 * connection for the duration of each read. better-sqlite3 is synchronous, so
 * every read does all its work before its promise settles; nothing else can
 * run on the connection mid-call, which also makes each read call see one
 * committed state. Writes are operations (transactions.ts) the engine runs
 * inline on that connection or in its write worker (write-worker.ts).
 */
import type { RevTree } from '../../core/rev.js';
import type {
  ChangesOptions,
  DatabaseProperties,
  DatabaseStore,
  DocRecord,
  GetDocsOptions,
  IdRangeOptions,
  RecordReadOptions,
  LocalDoc,
  PurgedInfo,
  PurgeRequest,
  RevisionBody,
  StoreInfo,
  WriteBatch,
  WriteResult,
} from '../engine.js';
import type { CatalogEntry } from './catalog.js';
import type { Connection } from './pool.js';
import { idRangeSql } from './ranges.js';
import { readAttachment } from './attachments.js';
import { decodeTree } from './tree-codec.js';
import { dataVersion, decodeBodyRefs, decodeInnerRefs, rememberStates, type RowState } from './doc-state.js';
import {
  encodeDocWrite,
  encodePurgeRequest,
  type PurgeResult,
  type WriteOperation,
  type WriteOperationResult,
} from './transactions.js';
import { readMeta } from './updates.js';

/** What a store needs from its engine. */
export interface StoreHost {
  /** Runs `action` on the database's connection; throws 404 if the database is gone. */
  withConnection<T>(entry: CatalogEntry, action: (connection: Connection) => T): T;
  /** Bytes the database occupies on disk. */
  fileBytes(entry: CatalogEntry, connection: Connection): number;
  /**
   * Runs a write operation (transactions.ts) on the database's write
   * connection: inline, or in the write worker; throws 404 if the database is gone.
   */
  runWrite<O extends WriteOperation>(entry: CatalogEntry, operation: O): Promise<WriteOperationResult<O>>;
  /**
   * Whether `write` runs on the connection reads use, so that `getDocs` with
   * `forUpdate` may leave it the rows it read (doc-state.ts). The worker has
   * its own connection and reads the rows itself.
   */
  readonly writesShareReadConnection: boolean;
}

/**
 * A record's columns, read with `.raw()` (arrays: no object per row from the
 * driver); with winning bodies, the body's two columns follow.
 */
type DocRow = readonly [
  seq: number,
  id: string,
  tree: string,
  winningRev: string,
  deleted: number,
  json?: string | null,
  attachmentsJson?: string | null,
];

/** Record columns of `docs` aliased `d`, and the winning body's columns of `bodies` aliased `b`. */
const docColumns = 'd.seq, d.id, d.tree, d.winning_rev, d.deleted';
const docBodyColumns = `${docColumns}, b.json, b.attachments_json`;
const winningBodyJoin = 'LEFT JOIN bodies b ON b.rowid = d.winning_body';

/** `SELECT <columns> FROM docs d [JOIN the winning body]`: the start of every record read. */
function selectRecords(options: RecordReadOptions | undefined): string {
  return options?.withWinningBodies === true
    ? `SELECT ${docBodyColumns} FROM docs d ${winningBodyJoin}`
    : `SELECT ${docColumns} FROM docs d`;
}

/** The tree is decoded on first access: most reads (a GET of the winner, listings) never look at it. */
function toRecord(row: DocRow): DocRecord {
  const treeText = row[2];
  let tree: RevTree | undefined;
  const json = row[5];
  return {
    id: row[1],
    get tree(): RevTree {
      return (tree ??= decodeTree(treeText));
    },
    winningRev: row[3],
    deleted: row[4] !== 0,
    seq: row[0],
    // Present only when the read joined the winning body.
    ...(json === undefined || json === null ? {} : { winningBody: { rev: row[3], json, attachmentsJson: row[6] as string } }),
  };
}

export class SqliteDatabaseStore implements DatabaseStore {
  readonly name: string;
  readonly #entry: CatalogEntry;
  readonly #host: StoreHost;
  #closed = false;

  constructor(entry: CatalogEntry, host: StoreHost) {
    this.name = entry.name;
    this.#entry = entry;
    this.#host = host;
  }

  #write<O extends WriteOperation>(operation: O): Promise<WriteOperationResult<O>> {
    if (this.#closed) return Promise.reject(new Error(`store ${this.name}: used after close()`));
    return this.#host.runWrite(this.#entry, operation);
  }

  #use<T>(action: (connection: Connection) => T): T {
    if (this.#closed) throw new Error(`store ${this.name}: used after close()`);
    return this.#host.withConnection(this.#entry, action);
  }

  async info(): Promise<StoreInfo> {
    return this.#use((connection) => {
      const meta = readMeta(connection);
      return {
        updateSeq: meta.update_seq,
        purgeSeq: meta.purge_seq,
        docCount: meta.doc_count,
        docDelCount: meta.doc_del_count,
        activeBytes: meta.active_bytes,
        fileBytes: this.#host.fileBytes(this.#entry, connection),
        createdAtMicros: meta.created_micros,
        uuid: meta.uuid,
      };
    });
  }

  async properties(): Promise<DatabaseProperties> {
    return this.#use((connection) => {
      const meta = readMeta(connection);
      return { revsLimit: meta.revs_limit, securityJson: meta.security_json, purgedInfosLimit: meta.purged_infos_limit };
    });
  }

  async setProperties(changes: Partial<DatabaseProperties>): Promise<void> {
    await this.#write({ kind: 'setProperties', changes });
  }

  async getDocs(ids: readonly string[], options?: GetDocsOptions): Promise<(DocRecord | undefined)[]> {
    return this.#use((connection) => {
      if (options?.forUpdate === true && this.#host.writesShareReadConnection) {
        return readTogether(connection, ids.length, () => readForUpdate(connection, ids));
      }
      const statement = connection.statement(`${selectRecords(options)} WHERE d.id = ?`).raw(true);
      return readTogether(connection, ids.length, () =>
        ids.map((id) => {
          const row = statement.get(id) as DocRow | undefined;
          return row === undefined ? undefined : toRecord(row);
        }),
      );
    });
  }

  async getBodies(id: string, revs: readonly string[]): Promise<Map<string, RevisionBody>> {
    return this.#use((connection) => {
      const bodies = new Map<string, RevisionBody>();
      if (revs.length === 0) return bodies;
      const row = connection.statement('SELECT body_refs, inner_refs FROM docs WHERE id = ?').raw(true).get(id) as
        | [string, string]
        | undefined;
      if (row === undefined) return bodies;
      const refs = decodeBodyRefs(row[0]);
      let inner: Map<string, number> | undefined;
      const byRowid = connection.statement('SELECT json, attachments_json FROM bodies WHERE rowid = ?').raw(true);
      for (const rev of revs) {
        let rowid = refs.get(rev)?.rowid;
        if (rowid === undefined && row[1].length > 0) {
          inner ??= decodeInnerRefs(row[1]);
          rowid = inner.get(rev);
        }
        const found = rowid === undefined ? undefined : (byRowid.get(rowid) as [string, string] | undefined);
        if (found !== undefined) bodies.set(rev, { rev, json: found[0], attachmentsJson: found[1] });
      }
      return bodies;
    });
  }

  async getAttachmentData(id: string, digest: string): Promise<Uint8Array | undefined> {
    return this.#use((connection) => readAttachment(connection, id, digest));
  }

  async scanDocs(options: IdRangeOptions): Promise<DocRecord[]> {
    return this.#use((connection) => {
      const range = idRangeSql('d.id', options);
      const sql = `${selectRecords(options)} ${range.where} ORDER BY d.id ${range.order} LIMIT ? OFFSET ?`;
      const rows = connection.statement(sql).raw(true).all(...range.params, options.limit, options.skip ?? 0) as DocRow[];
      return rows.map(toRecord);
    });
  }

  async countDocsBefore(key: string, descending: boolean): Promise<number> {
    return this.#use((connection) => {
      // Both counts walk an index of ids only (docs_id, docs_deleted_id).
      const before = descending ? '>' : '<';
      const sql = `SELECT (SELECT count(*) FROM docs WHERE id ${before} ?)
        - (SELECT count(*) FROM docs WHERE id ${before} ? AND deleted != 0)`;
      return connection.statement(sql).pluck().get(key, key) as number;
    });
  }

  async countChanges(since: number): Promise<number> {
    return this.#use(
      (connection) => connection.statement('SELECT count(*) FROM docs WHERE seq > ?').pluck().get(since) as number,
    );
  }

  async changes(options: ChangesOptions): Promise<DocRecord[]> {
    return this.#use((connection) => {
      let rows: DocRow[];
      if (options.descending !== true) {
        rows = connection
          .statement(`${selectRecords(options)} WHERE d.seq > ? ORDER BY d.seq LIMIT ?`)
          .raw(true)
          .all(options.since, options.limit) as DocRow[];
      } else if (options.since === 0) {
        rows = connection
          .statement(`${selectRecords(options)} ORDER BY d.seq DESC LIMIT ?`)
          .raw(true)
          .all(options.limit) as DocRow[];
      } else {
        rows = connection
          .statement(`${selectRecords(options)} WHERE d.seq < ? ORDER BY d.seq DESC LIMIT ?`)
          .raw(true)
          .all(options.since, options.limit) as DocRow[];
      }
      return rows.map(toRecord);
    });
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    const withTree = this.#host.writesShareReadConnection;
    return this.#write({ kind: 'write', docs: batch.docs.map((doc) => encodeDocWrite(doc, { withTree })) });
  }

  async getLocal(id: string): Promise<LocalDoc | undefined> {
    return this.#use(
      (connection) => connection.statement('SELECT id, rev, json FROM locals WHERE id = ?').get(id) as LocalDoc | undefined,
    );
  }

  async scanLocals(options: IdRangeOptions): Promise<LocalDoc[]> {
    return this.#use((connection) => {
      const range = idRangeSql('id', options);
      const sql = `SELECT id, rev, json FROM locals ${range.where} ORDER BY id ${range.order} LIMIT ? OFFSET ?`;
      return connection.statement(sql).all(...range.params, options.limit, options.skip ?? 0) as LocalDoc[];
    });
  }

  async putLocal(doc: LocalDoc): Promise<void> {
    await this.#write({ kind: 'putLocal', doc: { id: doc.id, rev: doc.rev, json: doc.json } });
  }

  async deleteLocal(id: string): Promise<boolean> {
    return this.#write({ kind: 'deleteLocal', id });
  }

  async purge(requests: readonly PurgeRequest[]): Promise<PurgeResult> {
    return this.#write({ kind: 'purge', requests: requests.map(encodePurgeRequest) });
  }

  async purgedInfos(): Promise<PurgedInfo[]> {
    return this.#use((connection) => {
      const rows = connection.statement('SELECT purge_seq, id, revs FROM purged_infos ORDER BY purge_seq').all() as {
        purge_seq: number;
        id: string;
        revs: string;
      }[];
      return rows.map((row) => ({ purgeSeq: row.purge_seq, id: row.id, revs: JSON.parse(row.revs) as string[] }));
    });
  }

  /**
   * Drops non-leaf bodies a chunk of documents per transaction, yielding
   * between chunks so other databases' writes keep flowing (inline: other
   * requests; in the worker, other queued operations), then hands the freed
   * pages back to the file system.
   */
  async compact(): Promise<void> {
    for (let afterSeq: number | undefined = 0; afterSeq !== undefined; ) {
      afterSeq = await this.#write({ kind: 'compactDocs', afterSeq });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    for (let afterId: string | undefined = ''; afterId !== undefined; ) {
      afterId = await this.#write({ kind: 'compactAttachments', afterId });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.#write({ kind: 'finishCompaction' });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * Runs several point reads in one read transaction: one snapshot, and one
 * WAL read lock instead of one per statement (each costs lock calls on the
 * shared-memory file).
 */
function readTogether<T>(connection: Connection, reads: number, read: () => T): T {
  if (reads < 2 || connection.db.inTransaction) return read();
  connection.statement('BEGIN').run();
  try {
    return read();
  } finally {
    connection.statement('COMMIT').run();
  }
}

/**
 * Records the writer is about to write: also the columns its write needs,
 * remembered (doc-state.ts) so that the write need not read the rows again.
 */
function readForUpdate(connection: Connection, ids: readonly string[]): (DocRecord | undefined)[] {
  const statement = connection
    .statement('SELECT seq, id, tree, winning_rev, deleted, active_bytes, body_refs, inner_refs FROM docs WHERE id = ?')
    .raw(true);
  const version = dataVersion(connection);
  const states = new Map<string, RowState | null>();
  const records = ids.map((id) => {
    const row = statement.get(id) as [number, string, string, string, number, number, string, string] | undefined;
    if (row === undefined) {
      states.set(id, null);
      return undefined;
    }
    states.set(id, { seq: row[0], deleted: row[4] !== 0, activeBytes: row[5], bodyRefsText: row[6], innerRefsText: row[7] });
    return toRecord([row[0], row[1], row[2], row[3], row[4]]);
  });
  rememberStates(connection, version, states);
  return records;
}

