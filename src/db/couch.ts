/**
 * The set of databases of one Settee instance: the entry point of the `db`
 * layer, used alike by the HTTP API and by embedded callers.
 *
 * `Database` objects are cached while in use (pending writes, waiting feeds)
 * and dropped when idle beyond `databasesCachedMax`; the storage engine bounds
 * open files on its own, so an idle database costs nothing but its files.
 */
import { dbNotFound, serviceUnavailable } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { defaultLimits } from '../core/limits.js';
import type { ListDatabasesOptions, StorageEngine } from '../storage/engine.js';
import { Database } from './database.js';
import { validateDbName } from './names.js';

export interface CouchOptions {
  readonly engine: StorageEngine;
  readonly limits?: Limits;
  /** `_security` given to new databases (CouchDB 3: admin-only). */
  readonly defaultSecurityJson?: string;
}

/** Database objects kept in memory at most (idle ones beyond this are dropped). */
export const databasesCachedMax = 2_000;

export const adminOnlySecurityJson = '{"members":{"roles":["_admin"]},"admins":{"roles":["_admin"]}}';

export class Couch {
  readonly engine: StorageEngine;
  readonly limits: Limits;
  private readonly defaultSecurityJson: string;
  private readonly open = new Map<string, Promise<Database>>();

  constructor(options: CouchOptions) {
    this.engine = options.engine;
    this.limits = options.limits ?? defaultLimits;
    this.defaultSecurityJson = options.defaultSecurityJson ?? adminOnlySecurityJson;
  }

  /** Database names sorted by code point (system databases, starting with `_`, first). */
  async listDatabases(options: ListDatabasesOptions = {}): Promise<string[]> {
    return this.engine.listDatabases(options);
  }

  async exists(name: string): Promise<boolean> {
    return this.engine.databaseExists(name);
  }

  /** Creates a database; 400 on an illegal name, 412 if it exists. */
  async createDatabase(name: string): Promise<Database> {
    validateDbName(name);
    await this.engine.createDatabase(name, {
      revsLimit: this.limits.revsLimitDefault,
      securityJson: this.defaultSecurityJson,
      purgedInfosLimit: 1000,
    });
    return this.database(name);
  }

  /** Deletes a database; 404 if missing. Live feeds on it end. */
  async deleteDatabase(name: string): Promise<void> {
    const cached = this.open.get(name);
    this.open.delete(name);
    if (cached !== undefined) {
      const db = await cached.catch(() => undefined);
      db?.notifier.close(dbNotFound());
      db?.retire(() => this.database(name));
    }
    await this.engine.deleteDatabase(name);
  }

  /** An existing database; 404 `Database does not exist.` otherwise. */
  database(name: string): Promise<Database> {
    const cached = this.open.get(name);
    if (cached !== undefined) {
      // Refresh its place in the map's insertion order (least recently used first).
      this.open.delete(name);
      this.open.set(name, cached);
      return cached;
    }
    const opening = this.engine
      .openDatabase(name)
      .then((store) => Database.open(name, store, this.limits))
      .catch((error: unknown) => {
        this.open.delete(name);
        throw error;
      });
    this.open.set(name, opening);
    this.evictIdle();
    return opening;
  }

  private evictIdle(): void {
    if (this.open.size <= databasesCachedMax) return;
    for (const [name, pending] of this.open) {
      if (this.open.size <= databasesCachedMax) break;
      void pending.then(
        (db) => {
          if (db.idle && this.open.get(name) === pending && this.open.size > databasesCachedMax) {
            this.open.delete(name);
            db.retire(() => this.database(name));
          }
        },
        () => undefined,
      );
    }
  }

  /**
   * Ends every waiting changes feed (they answer with what they have): the
   * first step of a graceful shutdown, so live feeds do not hold it up.
   */
  endLiveFeeds(): void {
    for (const pending of this.open.values()) {
      void pending.then(
        (db) => db.notifier.close(serviceUnavailable('The server is shutting down.')),
        () => undefined,
      );
    }
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    for (const pending of all) {
      const db = await pending.catch(() => undefined);
      await db?.close();
    }
    await this.engine.close();
  }
}

