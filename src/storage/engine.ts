/**
 * The storage-engine contract.
 *
 * An engine persists databases; it knows nothing of MVCC policy (who wins, what
 * is a conflict: that is `db/`). It stores, per database:
 *
 * - one `DocRecord` per document id: the revision tree, the winning revision and
 *   the sequence of the document's latest change (the by-sequence index holds
 *   exactly one entry per document, at that sequence, as in CouchDB);
 * - revision bodies keyed by (doc id, revision), as JSON text in CouchDB's output
 *   form without the special `_` members, plus attachment metadata;
 * - attachment data keyed by (doc id, digest): stored once however many
 *   revisions of the document name it, written with the revision that brings
 *   it, dropped by compaction once no stored revision body names it;
 * - `_local` documents (no tree);
 * - database properties (revs limit, security object, purge bookkeeping).
 *
 * Every method validates nothing that `db/` already validated: ids, revisions
 * and bodies arrive well-formed. Methods reject with `CouchError`s only for the
 * conditions their contract names; anything else is an engine failure.
 *
 * Durability: a `write`, `purge`, `putLocal`, `setProperties` or `compact` whose
 * promise resolved survives a crash of the process (kill -9) and of the machine.
 *
 * Concurrency: `db/` calls the write methods of one `DatabaseStore` from one
 * writer at a time; reads may run at any time and see only committed state,
 * each read call consistent within itself.
 *
 * The shared compliance suite (`storage/compliance.ts`) checks this contract;
 * an engine skips a test only by declaring the matching capability false.
 */
import type { RevTree } from '../core/rev.js';

export interface EngineCapabilities {
  /** Data survives closing and reopening the engine (false for in-memory engines). */
  readonly persistent: boolean;
  /** `compact` actually reclaims the bodies of non-leaf revisions. */
  readonly compaction: boolean;
  /** Several engine instances may share one store (e.g. PostgreSQL across nodes). */
  readonly sharedAcrossProcesses: boolean;
}

export interface ListDatabasesOptions {
  readonly startKey?: string;
  readonly endKey?: string;
  readonly inclusiveEnd?: boolean;
  readonly descending?: boolean;
  readonly limit?: number;
  readonly skip?: number;
}

export interface StorageEngine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  /** Names of all databases, sorted by code point (descending if asked). */
  listDatabases(options?: ListDatabasesOptions): Promise<string[]>;
  databaseExists(name: string): Promise<boolean>;
  /** Creates an empty database. Rejects with 412 `file_exists` if it exists. */
  createDatabase(name: string, properties: DatabaseProperties): Promise<void>;
  /** Deletes a database and all its data. Rejects with 404 `not_found` if missing. */
  deleteDatabase(name: string): Promise<void>;
  /**
   * A handle on an existing database; rejects with 404 `not_found` if missing.
   * Handles are cheap and may be held for long: the engine bounds the
   * underlying resources (open files, caches) itself.
   */
  openDatabase(name: string): Promise<DatabaseStore>;
  /** Releases every resource. Pending writes resolve or reject first. */
  close(): Promise<void>;
}

/**
 * What a document's entry in the id and sequence indexes holds. Engines may
 * decode `tree` on first access (most reads never look at it).
 */
export interface DocRecord {
  readonly id: string;
  readonly tree: RevTree;
  /** The winning revision, `N-hash`, as `db/` computed it. */
  readonly winningRev: string;
  /** Whether the winning revision is a tombstone. */
  readonly deleted: boolean;
  /** Sequence of the document's latest change (assigned by the engine on write). */
  readonly seq: number;
  /**
   * The winning revision's body, read in the same call as the record: present
   * only when the read asked for it (`withWinningBodies`) and the body is stored.
   */
  readonly winningBody?: RevisionBody;
}

/** What a read of records returns besides the records themselves. */
export interface RecordReadOptions {
  /** Attach each record's winning body (`DocRecord.winningBody`). */
  readonly withWinningBodies?: boolean;
}

export interface GetDocsOptions extends RecordReadOptions {
  /**
   * The caller (the database's one writer) is about to write these documents:
   * the engine may remember what its `write` needs of them. Plain reads leave
   * it unset and pay nothing for it.
   */
  readonly forUpdate?: boolean;
}

/** One stored revision body. */
export interface RevisionBody {
  readonly rev: string;
  /** The body without special members, as JSON text in CouchDB's output form. */
  readonly json: string;
  /**
   * Attachment metadata as JSON text (`{}` for none): an object of
   * `{"content_type","revpos","digest","length",…}` members, as `db/` wrote it.
   * Every `"digest"` member names attachment data of the document; the engine
   * reads only those, to know which data compaction keeps.
   */
  readonly attachmentsJson: string;
}

/** Attachment bytes as stored (possibly gzip-encoded), under their digest (`md5-<base64>`). */
export interface AttachmentBlob {
  readonly digest: string;
  readonly bytes: Uint8Array;
}

/** A document change for `write`: the new record and the bodies it adds. */
export interface DocWrite {
  readonly id: string;
  readonly tree: RevTree;
  readonly winningRev: string;
  readonly deleted: boolean;
  /** Bodies of revisions new to the tree. */
  readonly newBodies: readonly RevisionBody[];
  /**
   * Attachment data the new bodies name, stored in the same transaction; data
   * the document already has under the same digest is kept as it is.
   */
  readonly newAttachments?: readonly AttachmentBlob[];
  /**
   * Revisions dropped from the tree by stemming: their bodies may be removed
   * now or at compaction (readers never ask for revisions outside the tree).
   */
  readonly removedRevs: readonly string[];
}

export interface WriteBatch {
  /** At most one entry per document id; each gets the next sequence, in order. */
  readonly docs: readonly DocWrite[];
}

export interface WriteResult {
  /** The sequence assigned to each entry of `batch.docs`, in order. */
  readonly seqs: readonly number[];
  readonly updateSeq: number;
}

export interface LocalDoc {
  readonly id: string;
  /** Generation counter: the revision is `0-<rev>`. */
  readonly rev: number;
  /** Body without `_id`/`_rev`, CouchDB output-form JSON text. */
  readonly json: string;
}

export interface DatabaseProperties {
  readonly revsLimit: number;
  /** The `_security` object as JSON text. */
  readonly securityJson: string;
  readonly purgedInfosLimit: number;
}

export interface StoreInfo {
  readonly updateSeq: number;
  readonly purgeSeq: number;
  /** Documents whose winning revision is live / a tombstone (local docs excluded). */
  readonly docCount: number;
  readonly docDelCount: number;
  /** Bytes of the live data (latest leaf bodies) and of the files on disk. */
  readonly activeBytes: number;
  readonly fileBytes: number;
  /** Unix time in microseconds at which the database was created. */
  readonly createdAtMicros: number;
  /** Stable random identifier of this database instance (32 hex digits). */
  readonly uuid: string;
}

export interface IdRangeOptions extends RecordReadOptions {
  /** Inclusive lower (upper when descending) bound on ids, code-point order. */
  readonly startKey?: string;
  readonly endKey?: string;
  /** Whether `endKey` itself is included (default true). */
  readonly inclusiveEnd?: boolean;
  readonly descending?: boolean;
  readonly limit: number;
  readonly skip?: number;
}

export interface ChangesOptions extends RecordReadOptions {
  /** Return documents whose seq is greater than this (less, when descending; 0 = from the end). */
  readonly since: number;
  readonly descending?: boolean;
  readonly limit: number;
}

export interface PurgeRequest {
  readonly id: string;
  /** The new record after removing the purged leaves, or null when no revision remains. */
  readonly record: Omit<DocWrite, 'newBodies'> | null;
  /** Revisions whose bodies are removed. */
  readonly purgedRevs: readonly string[];
}

export interface PurgedInfo {
  readonly purgeSeq: number;
  readonly id: string;
  readonly revs: readonly string[];
}

export interface DatabaseStore {
  readonly name: string;

  info(): Promise<StoreInfo>;
  properties(): Promise<DatabaseProperties>;
  /** Durably replaces the given properties. */
  setProperties(changes: Partial<DatabaseProperties>): Promise<void>;

  /** Records for the given ids, `undefined` where unknown; same order as `ids`. */
  getDocs(ids: readonly string[], options?: GetDocsOptions): Promise<(DocRecord | undefined)[]>;
  /** Bodies of the given revisions of one document that are still stored. */
  getBodies(id: string, revs: readonly string[]): Promise<Map<string, RevisionBody>>;
  /** A document's attachment data stored under `digest`, or undefined. */
  getAttachmentData(id: string, digest: string): Promise<Uint8Array | undefined>;
  /** Records in id order (code points), for `_all_docs`; includes deleted documents. */
  scanDocs(options: IdRangeOptions): Promise<DocRecord[]>;
  /**
   * Number of LIVE documents (winning revision not deleted) whose id sorts
   * strictly before `key` (strictly after it, when descending): `_all_docs` offset.
   */
  countDocsBefore(key: string, descending: boolean): Promise<number>;
  /** Records by sequence: the by-sequence index. */
  changes(options: ChangesOptions): Promise<DocRecord[]>;
  /** Number of documents whose latest change has a sequence greater than `since` (`pending`). */
  countChanges(since: number): Promise<number>;

  /**
   * Atomically and durably applies a batch: replaces each document's record,
   * stores new bodies, assigns sequences `updateSeq + 1, + 2, …` in batch order.
   */
  write(batch: WriteBatch): Promise<WriteResult>;

  getLocal(id: string): Promise<LocalDoc | undefined>;
  /** Local documents in id order (ids include the `_local/` prefix). */
  scanLocals(options: IdRangeOptions): Promise<LocalDoc[]>;
  putLocal(doc: LocalDoc): Promise<void>;
  /** Resolves to whether the document existed. */
  deleteLocal(id: string): Promise<boolean>;

  /**
   * Atomically removes revisions: rewrites or removes each record, bumps the
   * purge sequence once per request entry, records purged infos (keeping at
   * most `purgedInfosLimit`). A removed record leaves the by-sequence index;
   * a rewritten one gets a new sequence. The update sequence always advances
   * (by one when only removals happened), as in CouchDB, so that indexers and
   * `_changes` readers can tell that something changed.
   */
  purge(requests: readonly PurgeRequest[]): Promise<{ purgeSeq: number; updateSeq: number }>;
  purgedInfos(): Promise<PurgedInfo[]>;

  /**
   * Drops bodies of revisions that are not leaves of their tree (or no longer
   * in it), then attachment data that no remaining body names.
   */
  compact(): Promise<void>;

  /** Gives up this handle; the engine may keep or release resources. */
  close(): Promise<void>;
}
