/**
 * What replication needs from a database, and nothing more: the one door
 * through which the replicator reaches a source or a target, local
 * (`local-endpoint.ts`, a `Database` in this process) or remote
 * (`http-endpoint.ts`, any CouchDB-protocol URL).
 *
 * Documents cross this interface as `JsonObject`s parsed with `parseJson`, so
 * `1.0` stays a float and big integers stay exact; a replicated document
 * carries its `_id`, `_rev`, `_revisions` and `_deleted` members as CouchDB's
 * `_bulk_get?revs=true` returns them.
 *
 * Sequences are opaque (`Seq`): a number for Settee and CouchDB 1.x, a string
 * for CouchDB 2+, anything JSON for others. The replicator only stores them
 * and compares them for equality (`sameSeq`), never orders them.
 */
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';

export type Seq = JsonValue;

/** The sequence a replication starts from when it has no checkpoint. */
export const lowestSeq: Seq = 0;

export function sameSeq(a: Seq, b: Seq): boolean {
  return a === b || stringifyJson(a) === stringifyJson(b);
}

export interface EndpointInfo {
  readonly dbName: string;
  readonly updateSeq: Seq;
  /** Changes when the database is re-created or the server lost uncommitted data. */
  readonly instanceStartTime: string;
}

/**
 * Who an endpoint is, for the replication id (CouchDB's `#httpdb` minus
 * credentials): the database URL without user info, the basic-auth user, and
 * the extra request headers in the order given.
 */
export interface EndpointIdentity {
  readonly url: string;
  readonly user?: string;
  readonly headers: readonly (readonly [string, string])[];
}

export interface ChangesRequest {
  readonly since: Seq;
  /** Rows at most in this answer. */
  readonly limit: number;
  /** `all_docs` (every leaf, the default) or `main_only` (winners, for `winning_revs_only`). */
  readonly style?: 'all_docs' | 'main_only';
  /** Only these documents (`filter=_doc_ids`). */
  readonly docIds?: readonly string[];
  /** Mango selector (`filter=_selector`); endpoints that cannot apply it throw. */
  readonly selector?: JsonObject;
  /** Wait up to `timeoutMs` for a change when there is none (`feed=longpoll`). */
  readonly longpoll?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ChangeRow {
  readonly seq: Seq;
  readonly id: string;
  readonly changes: readonly { readonly rev: string }[];
  readonly deleted: boolean;
}

export interface ChangesBatch {
  readonly rows: readonly ChangeRow[];
  readonly lastSeq: Seq;
}

export interface RevsDiffEntry {
  readonly missing: readonly string[];
  readonly possibleAncestors: readonly string[];
}

export interface DocRevisionRequest {
  readonly id: string;
  readonly rev: string;
  /** Revisions the target already has (CouchDB's `atts_since`), to skip their attachments. */
  readonly attsSince?: readonly string[];
}

/** One fetched revision: the document with `_revisions`, or why it could not be read. */
export type FetchedRevision =
  | { readonly ok: true; readonly doc: JsonObject }
  | { readonly ok: false; readonly id: string; readonly rev: string; readonly error: string; readonly reason: string };

export interface WriteFailure {
  readonly id: string;
  readonly rev?: string;
  readonly error: string;
  readonly reason: string;
}

export interface Endpoint {
  readonly identity: EndpointIdentity;
  /** Human-readable name for logs and errors (URL without credentials, or the db name). */
  readonly displayName: string;

  /** 404 `db_not_found` (a `CouchError`) when the database does not exist. */
  info(): Promise<EndpointInfo>;
  /** Creates the database if it does not exist; true when it did. */
  createIfMissing(): Promise<boolean>;

  /** A `_local` document body (with `_id`/`_rev`), or undefined. `id` excludes `_local/`. */
  getLocal(id: string): Promise<JsonObject | undefined>;
  /** Writes a `_local` document (its `_rev` member decides the update); returns the new rev. */
  putLocal(id: string, doc: JsonObject): Promise<string>;

  changes(request: ChangesRequest): Promise<ChangesBatch>;
  revsDiff(request: ReadonlyMap<string, readonly string[]>): Promise<Map<string, RevsDiffEntry>>;

  /**
   * `_bulk_get?revs=true&latest=true`: one or more results per request, in
   * order. Throws `BulkGetUnsupportedError` when the peer has no `_bulk_get`.
   */
  bulkGet(requests: readonly DocRevisionRequest[]): Promise<FetchedRevision[]>;
  /** `GET /db/id?open_revs=[…]&revs=true&latest=true`: the fallback for one document. */
  openRevs(id: string, revs: readonly string[], attsSince?: readonly string[]): Promise<FetchedRevision[]>;

  /** `_bulk_docs` with `new_edits=false`: only the documents that failed are returned. */
  bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]>;
  /** Changes after `since` not yet read (`_changes?limit=0`'s `pending`), for progress reports; null if unknown. */
  pendingCount?(since: Seq): Promise<number | null>;

  /** `_ensure_full_commit`; answers the instance start time. */
  ensureFullCommit(): Promise<string>;

  close(): Promise<void>;
}

/**
 * The exact JSON text a fetched document was parsed from, kept beside it so
 * an endpoint that sends documents as text (HTTP `_bulk_docs`) sends those
 * bytes untouched instead of serialising the object again. Documents are not
 * modified between fetch and write; an object without text is serialised.
 */
const jsonTexts = new WeakMap<JsonObject, string>();

export function withJsonText(doc: JsonObject, json: string): JsonObject {
  jsonTexts.set(doc, json);
  return doc;
}

export function jsonTextOf(doc: JsonObject): string {
  return jsonTexts.get(doc) ?? stringifyJson(doc);
}

/** Thrown by `bulkGet` when the peer does not implement `_bulk_get`. */
export class BulkGetUnsupportedError extends Error {
  constructor() {
    super('the endpoint has no _bulk_get');
    this.name = 'BulkGetUnsupportedError';
  }
}
