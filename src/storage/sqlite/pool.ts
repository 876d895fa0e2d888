/**
 * A bounded LRU of open SQLite connections, one per database file.
 *
 * Handles (`DatabaseStore`s) hold no connection; each call borrows one with
 * `use`, which opens the file if it was evicted. A borrowed connection is
 * pinned and never evicted; since better-sqlite3 is synchronous, a call holds
 * its pin only while it runs, so in practice the pool exceeds its bound only
 * while every connection is in use.
 */
import type Database from 'better-sqlite3';

export interface Connection {
  readonly db: Database.Database;
  /** Prepared statements by SQL text: preparing is the expensive part of a query. */
  statement(sql: string): Database.Statement;
}

interface PoolEntry {
  readonly connection: Connection;
  pins: number;
}

export class ConnectionPool {
  readonly #entries = new Map<string, PoolEntry>();
  readonly #openConnectionsMax: number;
  /** In-memory databases vanish when closed, so their connections are never evicted. */
  readonly #evictable: boolean;

  constructor(options: { openConnectionsMax: number; evictable: boolean }) {
    if (!(options.openConnectionsMax >= 1)) throw new Error('openConnectionsMax must be at least 1');
    this.#openConnectionsMax = options.openConnectionsMax;
    this.#evictable = options.evictable;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Adds a freshly opened connection (used when creating a database). */
  add(key: string, db: Database.Database): void {
    if (this.#entries.has(key)) throw new Error(`connection ${key} already pooled`);
    this.#entries.set(key, { connection: makeConnection(db), pins: 0 });
    this.#evictOverflow();
  }

  /**
   * Runs `action` with the connection for `key`, opening it with `open` if it
   * is not pooled. `open` may throw (e.g. the database was deleted).
   */
  use<T>(key: string, open: () => Database.Database, action: (connection: Connection) => T): T {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      // Pinned before evicting, so the eviction cannot pick the new entry.
      entry = { connection: makeConnection(open()), pins: 1 };
      this.#entries.set(key, entry);
      this.#evictOverflow();
    } else {
      // Map order is the recency order: re-insert to mark most recent.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      entry.pins += 1;
    }
    try {
      return action(entry.connection);
    } finally {
      entry.pins -= 1;
    }
  }

  /** Closes and forgets the connection for `key`, if open. */
  close(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (entry.pins > 0) throw new Error(`connection ${key} closed while in use`);
    this.#entries.delete(key);
    entry.connection.db.close();
  }

  closeAll(): void {
    for (const key of [...this.#entries.keys()]) this.close(key);
  }

  #evictOverflow(): void {
    if (!this.#evictable) return;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#openConnectionsMax) return;
      if (entry.pins === 0) {
        this.#entries.delete(key);
        entry.connection.db.close();
      }
    }
  }
}

function makeConnection(db: Database.Database): Connection {
  const statements = new Map<string, Database.Statement>();
  return {
    db,
    statement(sql: string): Database.Statement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
