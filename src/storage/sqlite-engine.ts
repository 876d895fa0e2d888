/**
 * The default storage engine: one SQLite file per database (better-sqlite3),
 * a catalog file naming them, and a bounded LRU of open connections.
 *
 * Layout under `dataDir`:
 *   _catalog.sqlite                          names → files (see sqlite/catalog.ts)
 *   shards/<2 hex>/<escaped name>.<stamp>.sqlite   one per database
 *
 * Idle databases cost a catalog row and a closed file: `openDatabasesMax`
 * bounds the open connections and their page caches (2 MB each at most).
 * Inline, a connection is its file's only one and holds it in exclusive
 * locking mode: two file descriptors (the database and its -wal), no -shm
 * file and no lock calls per statement (schema.ts). With the write worker,
 * two connections share each file in the usual WAL way (three descriptors).
 *
 * `dataDir: ':memory:'` keeps everything in memory (tests, embedding); such an
 * engine is not persistent and never evicts, since closing would lose data.
 *
 * `writeWorker: true` runs every write transaction (and its fsync) in a
 * worker thread (sqlite/write-worker.ts) with its own connections, so the
 * main thread keeps serving requests meanwhile; reads stay on the main
 * thread. A write resolves after the worker committed, so a read issued after
 * it sees it. In-memory engines ignore the option (a worker cannot share an
 * in-memory database).
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dbNotFound, fileExists } from '../core/errors.js';
import { defaultLimits } from '../core/limits.js';
import type {
  DatabaseProperties,
  DatabaseStore,
  EngineCapabilities,
  ListDatabasesOptions,
  StorageEngine,
} from './engine.js';
import { Catalog, databaseFileFor, type CatalogEntry } from './sqlite/catalog.js';
import { ConnectionPool, type Connection } from './sqlite/pool.js';
import { applyConnectionPragmas, createDatabaseSchema, databaseFileImage, openDatabaseFile } from './sqlite/schema.js';
import { SqliteDatabaseStore, type StoreHost } from './sqlite/store.js';
import { runWriteOperation } from './sqlite/transactions.js';
import { WriteWorkerClient } from './sqlite/write-client.js';

export interface SqliteEngineOptions {
  /** Directory holding the catalog and the database files, or `':memory:'`. */
  readonly dataDir: string;
  /** Open database connections kept (least recently used closed beyond that). */
  readonly openDatabasesMax?: number;
  /** Clock, in Unix microseconds (injected for deterministic tests). */
  readonly nowMicros?: () => number;
  /** Source of database uuids: 32 lowercase hex digits. */
  readonly newUuid?: () => string;
  /** Run write transactions in a worker thread (ignored in memory). */
  readonly writeWorker?: boolean;
}

/**
 * The part of `openDatabasesMax` the write worker keeps open: writes usually
 * go to few databases at a time, reads to many.
 */
function workerConnectionsMax(openDatabasesMax: number): number {
  return Math.max(1, Math.floor(openDatabasesMax / 4));
}

const fileSuffixes = ['', '-wal', '-shm', '-journal'] as const;

export class SqliteEngine implements StorageEngine {
  readonly name = 'sqlite';
  readonly capabilities: EngineCapabilities;
  readonly #dataDir: string;
  readonly #inMemory: boolean;
  readonly #catalog: Catalog;
  readonly #pool: ConnectionPool;
  readonly #nowMicros: () => number;
  readonly #newUuid: () => string;
  readonly #host: StoreHost;
  readonly #writeClient: WriteWorkerClient | undefined;
  /** Last creation stamp handed out: stamps name files, so they never repeat. */
  #lastStampMicros = 0;
  #closed = false;

  constructor(options: SqliteEngineOptions) {
    this.#dataDir = options.dataDir;
    this.#inMemory = options.dataDir === ':memory:';
    this.capabilities = Object.freeze({ persistent: !this.#inMemory, compaction: true, sharedAcrossProcesses: false });
    this.#nowMicros = options.nowMicros ?? (() => Date.now() * 1000);
    this.#newUuid = options.newUuid ?? (() => randomUUID().replaceAll('-', ''));
    const openDatabasesMax = options.openDatabasesMax ?? defaultLimits.openDatabasesMax;
    const useWorker = options.writeWorker === true && !this.#inMemory;
    const workerShare = useWorker ? workerConnectionsMax(openDatabasesMax) : 0;
    this.#pool = new ConnectionPool({
      openConnectionsMax: Math.max(1, openDatabasesMax - workerShare),
      evictable: !this.#inMemory,
    });
    this.#writeClient = useWorker
      ? new WriteWorkerClient({ dataDir: this.#dataDir, openConnectionsMax: workerShare })
      : undefined;
    if (this.#inMemory) {
      this.#catalog = new Catalog(':memory:');
    } else {
      mkdirSync(this.#dataDir, { recursive: true });
      this.#catalog = new Catalog(join(this.#dataDir, '_catalog.sqlite'));
      this.#removeOrphans();
    }
    this.#host = {
      withConnection: (entry, action) => {
        this.#assertOpen();
        return this.#pool.use(entry.file, () => this.#reopen(entry), action);
      },
      fileBytes: (entry, connection) => this.#fileBytes(entry, connection),
      writesShareReadConnection: this.#writeClient === undefined,
      runWrite: async (entry, operation) => {
        this.#assertOpen();
        if (this.#writeClient === undefined) {
          return this.#pool.use(entry.file, () => this.#reopen(entry), (connection) => runWriteOperation(connection, operation));
        }
        // The worker does not read the catalog: a deleted database is refused here.
        if (this.#catalog.get(entry.name)?.file !== entry.file) throw dbNotFound();
        return this.#writeClient.run(entry.file, operation);
      },
    };
  }

  /** Whether write transactions run in a worker thread. */
  get writesInWorker(): boolean {
    return this.#writeClient !== undefined;
  }

  /** Kills the write worker, to test recovery (no-op inline). */
  async killWriteWorkerForTests(): Promise<void> {
    await this.#writeClient?.killForTests();
  }

  /** Connections currently open (for tests and metrics). */
  get openConnectionCount(): number {
    return this.#pool.size;
  }

  async listDatabases(options: ListDatabasesOptions = {}): Promise<string[]> {
    this.#assertOpen();
    return this.#catalog.list(options);
  }

  async databaseExists(name: string): Promise<boolean> {
    this.#assertOpen();
    return this.#catalog.get(name) !== undefined;
  }

  async createDatabase(name: string, properties: DatabaseProperties): Promise<void> {
    this.#assertOpen();
    if (this.#catalog.get(name) !== undefined) throw fileExists();
    const entry = this.#newEntry(name);
    const meta = { ...properties, uuid: this.#newUuid(), createdAtMicros: entry.createdAtMicros };
    if (this.#inMemory) {
      const db = new Database(':memory:');
      applyConnectionPragmas(db, { inMemory: true, newFile: true });
      createDatabaseSchema(db, meta);
      this.#catalog.commitCreate(entry);
      this.#pool.add(entry.file, db);
      return;
    }
    // Orphan mark first: a crash from here until commitCreate leaves a file
    // that startup removes, never a half-created visible database.
    this.#catalog.beginCreate(entry.file);
    const path = join(this.#dataDir, entry.file);
    try {
      const newDirectory = mkdirSync(dirname(path), { recursive: true });
      if (newDirectory !== undefined) syncDirectory(dirname(newDirectory));
      writeDurably(path, databaseFileImage(meta));
    } catch (error) {
      this.#removeFiles(entry.file);
      throw error;
    }
    // The connection opens on first use: creating many databases opens none.
    this.#catalog.commitCreate(entry);
  }

  async deleteDatabase(name: string): Promise<void> {
    this.#assertOpen();
    const entry = this.#catalog.get(name);
    if (entry === undefined) throw dbNotFound();
    this.#pool.close(entry.file);
    this.#catalog.beginDelete(entry);
    // From here writes to it are refused; the worker closes its file after
    // the operations already sent.
    await this.#writeClient?.closeFile(entry.file);
    if (this.#inMemory) this.#catalog.forgetOrphan(entry.file);
    else this.#removeFiles(entry.file);
  }

  async openDatabase(name: string): Promise<DatabaseStore> {
    this.#assertOpen();
    const entry = this.#catalog.get(name);
    if (entry === undefined) throw dbNotFound();
    return new SqliteDatabaseStore(entry, this.#host);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writeClient?.close();
    this.#pool.closeAll();
    this.#catalog.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('SqliteEngine: used after close()');
  }

  #newEntry(name: string): CatalogEntry {
    let stamp = Math.max(this.#nowMicros(), this.#lastStampMicros + 1);
    const fileFor = (micros: number): string =>
      this.#inMemory ? `memory:${micros}:${name}` : databaseFileFor(name, micros);
    // A leftover file of that name (clock set back) must not be reused.
    while (!this.#inMemory && existsSync(join(this.#dataDir, fileFor(stamp)))) stamp += 1;
    this.#lastStampMicros = stamp;
    return { name, file: fileFor(stamp), createdAtMicros: stamp };
  }

  /** Reopens an evicted database, unless it was deleted (or deleted and recreated) since. */
  #reopen(entry: CatalogEntry): Database.Database {
    if (this.#inMemory || this.#catalog.get(entry.name)?.file !== entry.file) throw dbNotFound();
    // Inline, this is the file's only connection; with the worker, it shares the file.
    return openDatabaseFile(join(this.#dataDir, entry.file), { exclusive: this.#writeClient === undefined });
  }

  #fileBytes(entry: CatalogEntry, connection: Connection): number {
    if (this.#inMemory) {
      const pages = connection.db.pragma('page_count', { simple: true }) as number;
      return pages * (connection.db.pragma('page_size', { simple: true }) as number);
    }
    const path = join(this.#dataDir, entry.file);
    return sizeOf(path) + sizeOf(`${path}-wal`);
  }

  /** Deletes a database's files, then its orphan mark. */
  #removeFiles(file: string): void {
    for (const suffix of fileSuffixes) rmSync(join(this.#dataDir, file + suffix), { force: true });
    this.#catalog.forgetOrphan(file);
  }

  /** Finishes the creates and deletes a crash interrupted. */
  #removeOrphans(): void {
    for (const file of this.#catalog.orphans()) this.#removeFiles(file);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Writes a new file (failing if it exists) and makes it and its directory entry durable. */
function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectory(dirname(path));
}

/** Makes a new directory entry durable (a file's own fsync does not cover it). */
function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
