/**
 * `DatabaseStore` on one SQLite file.
 *
 * A store is a cheap handle: it names its catalog entry and borrows the pooled
 * connection for the duration of each call. better-sqlite3 is synchronous, so
 * every method does all its work before its promise settles; nothing else can
 * run on the connection mid-call, which also makes each read call see one
 * committed state. The methods are async only because the contract is.
 */
import type {
  ChangesOptions,
  DatabaseProperties,
  DatabaseStore,
  DocRecord,
  IdRangeOptions,
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
import { decodeTree } from './tree-codec.js';
import {
  compactChunk,
  deleteBodies,
  putRecord,
  readMeta,
  readTotals,
  subtractCurrent,
  trimPurgedInfos,
  writeTotals,
} from './updates.js';

/** What a store needs from its engine. */
export interface StoreHost {
  /** Runs `action` on the database's connection; throws 404 if the database is gone. */
  withConnection<T>(entry: CatalogEntry, action: (connection: Connection) => T): T;
  /** Bytes the database occupies on disk. */
  fileBytes(entry: CatalogEntry, connection: Connection): number;
}

interface DocRow {
  seq: number;
  id: string;
  tree: string;
  winning_rev: string;
  deleted: number;
}

const docColumns = 'seq, id, tree, winning_rev, deleted';

function toRecord(row: DocRow): DocRecord {
  return { id: row.id, tree: decodeTree(row.tree), winningRev: row.winning_rev, deleted: row.deleted !== 0, seq: row.seq };
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
    this.#use((connection) =>
      connection.db.transaction(() => {
        connection
          .statement(
            `UPDATE meta SET revs_limit = coalesce(?, revs_limit), security_json = coalesce(?, security_json),
               purged_infos_limit = coalesce(?, purged_infos_limit)`,
          )
          .run(changes.revsLimit ?? null, changes.securityJson ?? null, changes.purgedInfosLimit ?? null);
        if (changes.purgedInfosLimit !== undefined) trimPurgedInfos(connection);
      }).immediate(),
    );
  }

  async getDocs(ids: readonly string[]): Promise<(DocRecord | undefined)[]> {
    return this.#use((connection) => {
      const statement = connection.statement(`SELECT ${docColumns} FROM docs WHERE id = ?`);
      return ids.map((id) => {
        const row = statement.get(id) as DocRow | undefined;
        return row === undefined ? undefined : toRecord(row);
      });
    });
  }

  async getBodies(id: string, revs: readonly string[]): Promise<Map<string, RevisionBody>> {
    return this.#use((connection) => {
      const statement = connection.statement('SELECT json, attachments_json FROM bodies WHERE id = ? AND rev = ?');
      const bodies = new Map<string, RevisionBody>();
      for (const rev of revs) {
        const row = statement.get(id, rev) as { json: string; attachments_json: string } | undefined;
        if (row !== undefined) bodies.set(rev, { rev, json: row.json, attachmentsJson: row.attachments_json });
      }
      return bodies;
    });
  }

  async scanDocs(options: IdRangeOptions): Promise<DocRecord[]> {
    return this.#use((connection) => {
      const range = idRangeSql('id', options);
      const sql = `SELECT ${docColumns} FROM docs ${range.where} ORDER BY id ${range.order} LIMIT ? OFFSET ?`;
      const rows = connection.statement(sql).all(...range.params, options.limit, options.skip ?? 0) as DocRow[];
      return rows.map(toRecord);
    });
  }

  async countDocsBefore(key: string, descending: boolean): Promise<number> {
    return this.#use((connection) => {
      const sql = `SELECT count(*) AS n FROM docs WHERE id ${descending ? '>' : '<'} ? AND deleted = 0`;
      return (connection.statement(sql).get(key) as { n: number }).n;
    });
  }

  async countChanges(since: number): Promise<number> {
    return this.#use(
      (connection) => (connection.statement('SELECT count(*) AS n FROM docs WHERE seq > ?').get(since) as { n: number }).n,
    );
  }

  async changes(options: ChangesOptions): Promise<DocRecord[]> {
    return this.#use((connection) => {
      let rows: DocRow[];
      if (options.descending !== true) {
        rows = connection
          .statement(`SELECT ${docColumns} FROM docs WHERE seq > ? ORDER BY seq LIMIT ?`)
          .all(options.since, options.limit) as DocRow[];
      } else if (options.since === 0) {
        rows = connection
          .statement(`SELECT ${docColumns} FROM docs ORDER BY seq DESC LIMIT ?`)
          .all(options.limit) as DocRow[];
      } else {
        rows = connection
          .statement(`SELECT ${docColumns} FROM docs WHERE seq < ? ORDER BY seq DESC LIMIT ?`)
          .all(options.since, options.limit) as DocRow[];
      }
      return rows.map(toRecord);
    });
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    return this.#use((connection) =>
      connection.db.transaction(() => {
        const totals = readTotals(connection);
        const insertBody = connection.statement(
          'INSERT OR IGNORE INTO bodies (id, rev, json, attachments_json) VALUES (?, ?, ?, ?)',
        );
        const seqs: number[] = [];
        for (const doc of batch.docs) {
          subtractCurrent(connection, doc.id, totals);
          deleteBodies(connection, doc.id, doc.removedRevs);
          for (const body of doc.newBodies) insertBody.run(doc.id, body.rev, body.json, body.attachmentsJson);
          seqs.push(putRecord(connection, doc, doc.newBodies, totals));
        }
        if (seqs.length > 0) writeTotals(connection, totals);
        return { seqs, updateSeq: totals.updateSeq };
      }).immediate(),
    );
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
    this.#use((connection) =>
      connection.statement('INSERT OR REPLACE INTO locals (id, rev, json) VALUES (?, ?, ?)').run(doc.id, doc.rev, doc.json),
    );
  }

  async deleteLocal(id: string): Promise<boolean> {
    return this.#use((connection) => connection.statement('DELETE FROM locals WHERE id = ?').run(id).changes > 0);
  }

  async purge(requests: readonly PurgeRequest[]): Promise<{ purgeSeq: number; updateSeq: number }> {
    return this.#use((connection) =>
      connection.db.transaction(() => {
        const totals = readTotals(connection);
        let purgeSeq = readMeta(connection).purge_seq;
        const recordPurge = connection.statement('INSERT INTO purged_infos (purge_seq, id, revs) VALUES (?, ?, ?)');
        for (const request of requests) {
          subtractCurrent(connection, request.id, totals);
          deleteBodies(connection, request.id, request.purgedRevs);
          if (request.record === null) {
            connection.statement('DELETE FROM docs WHERE id = ?').run(request.id);
          } else {
            deleteBodies(connection, request.id, request.record.removedRevs);
            putRecord(connection, request.record, [], totals);
          }
          purgeSeq += 1;
          recordPurge.run(purgeSeq, request.id, JSON.stringify(request.purgedRevs));
        }
        writeTotals(connection, totals);
        connection.statement('UPDATE meta SET purge_seq = ?').run(purgeSeq);
        trimPurgedInfos(connection);
        return { purgeSeq, updateSeq: totals.updateSeq };
      }).immediate(),
    );
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
   * Drops non-leaf bodies a chunk of documents per transaction, yielding to
   * the event loop between chunks so other databases' requests keep flowing,
   * then hands the freed pages back to the file system.
   */
  async compact(): Promise<void> {
    let afterId: string | undefined;
    for (;;) {
      afterId = this.#use((connection) => compactChunk(connection, afterId));
      if (afterId === undefined) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#use((connection) => {
      connection.db.pragma('wal_checkpoint(TRUNCATE)');
      connection.db.pragma('incremental_vacuum');
      connection.db.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

