/**
 * The layout of one database file and of the catalog file, and the pragmas
 * every connection runs with.
 *
 * A database file:
 * - `docs`: one row per document. Its rowid *is* the document's sequence, so the
 *   table itself is the by-sequence index and an index on `id` the by-id
 *   index. A change moves the row to a new rowid: the write path deletes the
 *   old row by seq and inserts the new one. The index is not UNIQUE (one
 *   writer per database keeps one row per id) so that writing a live document
 *   maintains one id-keyed index, not two: with random ids, each such index
 *   dirties a random page per document. A partial index holds the ids of
 *   tombstones (usually few): `countDocsBefore` counts all ids before a key
 *   and subtracts the tombstones.
 * - `bodies`: revision bodies under increasing rowids (appends touch the last
 *   page only). A rowid table because bodies can be megabytes and WITHOUT
 *   ROWID tables want small rows. The document row's `body_refs` maps each
 *   stored *leaf* revision to its body's rowid and size (see doc-state.ts),
 *   and `winning_body` names the winner's body, so a read of the winner is one
 *   joined lookup. `inner_refs` lists the bodies of revisions that stopped
 *   being leaves, as text that a write appends to without decoding it
 *   (doc-state.ts): an update's work in JavaScript does not grow with the
 *   document's history. Compaction empties it. (A side table keyed by
 *   document would dirty one more random page per updated document.)
 * - `locals`: `_local` documents (small, WITHOUT ROWID).
 * - `meta`: one row of counters and properties, kept current inside every
 *   write transaction so `info()` never counts.
 * - `purged_infos`: the most recent purges, by purge sequence.
 * - `attachments`: attachment data per (document, digest) (attachments.ts).
 *
 * `PRAGMA user_version` holds the schema version for future migrations.
 */
import Database from 'better-sqlite3';
import { createAttachmentsSchema } from './attachments.js';

export const databaseSchemaVersion = 3;
export const catalogSchemaVersion = 1;

/** Pages SQLite may cache per connection, as KiB (negative = KiB in SQLite). */
const cacheKibibytes = 2000;
/** Size the WAL is truncated to after a checkpoint. */
const journalBytesMax = 4 * 1024 * 1024;
/** How long a statement waits for a lock held by another connection. */
export const busyTimeoutMs = 5000;
/**
 * Bytes of a database file read through a memory map: pages come from the OS
 * page cache without a pread each (measured: a third less system time per
 * GET). It bounds address space, not memory: physical pages stay the
 * kernel's, shared by every connection of the file.
 */
const mmapBytesMax = 256 * 1024 * 1024;

export interface ConnectionOptions {
  readonly inMemory: boolean;
  readonly newFile?: boolean;
  /**
   * The only connection to the file (inline mode: one connection per database
   * reads and writes): `locking_mode = EXCLUSIVE`, set before the first WAL
   * access, so SQLite keeps the WAL index in private memory: no `-shm` file
   * (one file descriptor less per open database) and no lock calls on it for
   * every statement (a point read costs two `fcntl`s otherwise). Another
   * process cannot open the file meanwhile, which also keeps a second server
   * off the same data directory.
   */
  readonly exclusive?: boolean;
}

export function applyConnectionPragmas(db: Database.Database, options: ConnectionOptions): void {
  if (options.exclusive === true) db.pragma('locking_mode = EXCLUSIVE');
  // Must precede journal_mode (which writes the header) and the first table:
  // lets compaction hand free pages back to the file system.
  if (options.newFile === true) db.pragma('auto_vacuum = INCREMENTAL');
  if (!options.inMemory) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${cacheKibibytes}`);
  db.pragma('foreign_keys = OFF');
  db.pragma(`journal_size_limit = ${journalBytesMax}`);
  // Big sorts (there are none by design) stay in memory rather than temp files.
  db.pragma('temp_store = MEMORY');
}

export interface InitialMeta {
  readonly revsLimit: number;
  readonly securityJson: string;
  readonly purgedInfosLimit: number;
  readonly uuid: string;
  readonly createdAtMicros: number;
}

/**
 * The complete bytes of a new, empty database file in WAL mode.
 *
 * Built in memory and written with one write and one fsync: about three
 * times cheaper than creating the file through SQLite, which syncs a
 * rollback journal to switch to WAL and then the WAL to commit the schema.
 * Bytes 18 and 19 of the header are the file format's read and write
 * versions; 2 means WAL (https://www.sqlite.org/fileformat.html#file_format_version_numbers),
 * exactly what `PRAGMA journal_mode=WAL` stores there.
 */
export function databaseFileImage(meta: InitialMeta): Buffer {
  const db = new Database(':memory:');
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    createDatabaseSchema(db, meta);
    const image = db.serialize();
    image[18] = 2;
    image[19] = 2;
    return image;
  } finally {
    db.close();
  }
}

/** Creates the tables of a new database and its single meta row. */
export function createDatabaseSchema(db: Database.Database, meta: InitialMeta): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE meta (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
        update_seq INTEGER NOT NULL,
        purge_seq INTEGER NOT NULL,
        doc_count INTEGER NOT NULL,
        doc_del_count INTEGER NOT NULL,
        active_bytes INTEGER NOT NULL,
        revs_limit INTEGER NOT NULL,
        security_json TEXT NOT NULL,
        purged_infos_limit INTEGER NOT NULL,
        uuid TEXT NOT NULL,
        created_micros INTEGER NOT NULL
      );
      CREATE TABLE docs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        winning_rev TEXT NOT NULL,
        winning_body INTEGER,
        tree TEXT NOT NULL,
        active_bytes INTEGER NOT NULL,
        body_refs TEXT NOT NULL,
        inner_refs TEXT NOT NULL
      );
      CREATE INDEX docs_id ON docs (id);
      -- _all_docs offsets count live ids: all ids minus these.
      CREATE INDEX docs_deleted_id ON docs (id, deleted) WHERE deleted != 0;
      CREATE TABLE bodies (
        rowid INTEGER PRIMARY KEY,
        json TEXT NOT NULL,
        attachments_json TEXT NOT NULL
      );
      CREATE TABLE locals (
        id TEXT PRIMARY KEY,
        rev INTEGER NOT NULL,
        json TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE purged_infos (
        purge_seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        revs TEXT NOT NULL
      );
    `);
    createAttachmentsSchema(db);
    db.prepare(
      `INSERT INTO meta (singleton, update_seq, purge_seq, doc_count, doc_del_count, active_bytes,
         revs_limit, security_json, purged_infos_limit, uuid, created_micros)
       VALUES (0, 0, 0, 0, 0, 0, ?, ?, ?, ?, ?)`,
    ).run(meta.revsLimit, meta.securityJson, meta.purgedInfosLimit, meta.uuid, meta.createdAtMicros);
    db.pragma(`user_version = ${databaseSchemaVersion}`);
  })();
}

/** Throws unless the file carries the schema this code understands. */
export function checkDatabaseSchema(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true });
  if (version !== databaseSchemaVersion) {
    throw new Error(`${file}: schema version ${String(version)}, expected ${databaseSchemaVersion}`);
  }
}

/**
 * The catalog: `dbs` maps names to files; `orphans` lists files that may exist
 * on disk without a `dbs` row (a create or delete in progress), removed at
 * startup if a crash left them behind.
 */
export function createCatalogSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS dbs (
        name TEXT PRIMARY KEY,
        file TEXT NOT NULL,
        created_micros INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS orphans (
        file TEXT PRIMARY KEY
      ) WITHOUT ROWID;
    `);
    const version = db.pragma('user_version', { simple: true });
    if (version === 0) db.pragma(`user_version = ${catalogSchemaVersion}`);
    else if (version !== catalogSchemaVersion) {
      throw new Error(`catalog: schema version ${String(version)}, expected ${catalogSchemaVersion}`);
    }
  })();
}

/** Opens an existing database file with the usual pragmas, checking its schema. */
export function openDatabaseFile(path: string, options: { exclusive?: boolean } = {}): Database.Database {
  const db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    applyConnectionPragmas(db, { inMemory: false, exclusive: options.exclusive === true });
    db.pragma(`mmap_size = ${mmapBytesMax}`);
    checkDatabaseSchema(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
