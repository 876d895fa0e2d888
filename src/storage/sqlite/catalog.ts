/**
 * The catalog: which databases exist and which file holds each.
 *
 * Listing is a range query on the catalog's primary key, never a directory
 * scan. Creating and deleting keep the catalog the single source of truth
 * across crashes: a file that may exist without its `dbs` row is first
 * recorded in `orphans` (in the same transaction that removes the row, for a
 * delete), and `reconcile()` at startup deletes whatever such files remain.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { ListDatabasesOptions } from '../engine.js';
import { applyConnectionPragmas, createCatalogSchema } from './schema.js';
import { idRangeSql } from './ranges.js';

export interface CatalogEntry {
  readonly name: string;
  /** Relative to the data directory (or a unique key, in memory). */
  readonly file: string;
  readonly createdAtMicros: number;
}

/** Escaped names longer than this are shortened and made unique by a hash. */
const escapedNameCharsMax = 120;

export class Catalog {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    const inMemory = path === ':memory:';
    this.#db = new Database(path);
    applyConnectionPragmas(this.#db, { inMemory });
    createCatalogSchema(this.#db);
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  get(name: string): CatalogEntry | undefined {
    const row = this.#statement('SELECT name, file, created_micros FROM dbs WHERE name = ?').get(name) as
      | { name: string; file: string; created_micros: number }
      | undefined;
    return row === undefined ? undefined : { name: row.name, file: row.file, createdAtMicros: row.created_micros };
  }

  list(options: ListDatabasesOptions): string[] {
    const range = idRangeSql('name', options);
    const sql = `SELECT name FROM dbs ${range.where} ORDER BY name ${range.order} LIMIT ? OFFSET ?`;
    // LIMIT -1 is SQLite's "no limit": the catalog is small enough to list whole.
    const rows = this.#statement(sql).all(...range.params, options.limit ?? -1, options.skip ?? 0) as {
      name: string;
    }[];
    return rows.map((row) => row.name);
  }

  /** Records that `file` is about to be created (before the file exists). */
  beginCreate(file: string): void {
    this.#statement('INSERT OR IGNORE INTO orphans (file) VALUES (?)').run(file);
  }

  /** Makes the database visible: the row and the end of the orphan mark, atomically. */
  commitCreate(entry: CatalogEntry): void {
    this.#db.transaction(() => {
      this.#statement('INSERT INTO dbs (name, file, created_micros) VALUES (?, ?, ?)').run(
        entry.name,
        entry.file,
        entry.createdAtMicros,
      );
      this.#statement('DELETE FROM orphans WHERE file = ?').run(entry.file);
    })();
  }

  /** Removes the row and marks its file for removal, atomically. */
  beginDelete(entry: CatalogEntry): void {
    this.#db.transaction(() => {
      this.#statement('DELETE FROM dbs WHERE name = ?').run(entry.name);
      this.#statement('INSERT OR IGNORE INTO orphans (file) VALUES (?)').run(entry.file);
    })();
  }

  /** The file is gone from disk. */
  forgetOrphan(file: string): void {
    this.#statement('DELETE FROM orphans WHERE file = ?').run(file);
  }

  orphans(): string[] {
    return (this.#statement('SELECT file FROM orphans').all() as { file: string }[]).map((row) => row.file);
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * Where a new database's file goes, relative to the data directory:
 * `shards/<2 hex of sha1(name)>/<escaped name>.<creation stamp>.sqlite`.
 *
 * The escape keeps `[a-z0-9_-]` and writes every other UTF-8 byte as `=xx`, so
 * names are readable on disk and safe on case-insensitive file systems. The
 * creation stamp makes a recreated database a different file, so a handle on
 * the deleted one can never reopen its successor.
 */
export function databaseFileFor(name: string, createdAtMicros: number): string {
  const digest = createHash('sha1').update(name).digest('hex');
  let escaped = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    escaped += /[a-z0-9_-]/.test(char) ? char : `=${byte.toString(16).padStart(2, '0')}`;
  }
  if (escaped.length > escapedNameCharsMax) escaped = `${escaped.slice(0, escapedNameCharsMax - 17)}~${digest.slice(0, 16)}`;
  return `shards/${digest.slice(0, 2)}/${escaped}.${createdAtMicros.toString(36)}.sqlite`;
}
