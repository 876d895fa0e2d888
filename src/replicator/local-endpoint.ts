/**
 * An endpoint over a database of this process, through the `db` layer
 * directly: no HTTP, no JSON text between the two sides except the stored
 * bodies, which are parsed once with `parseJson`.
 */
import { badRequest, isCouchError, notFound } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { parseRev } from '../core/rev.js';
import type { Rev } from '../core/rev.js';
import type { Couch } from '../db/couch.js';
import type { Database } from '../db/database.js';
import { docUpdateFromJson } from '../db/document.js';
import type { DocUpdate } from '../db/document.js';
import { renderLocal } from '../db/local-docs.js';
import { validateDbName } from '../db/names.js';
import type { OpenRevsResult } from '../db/read-doc.js';
import { parseSelector } from '../query/selector.js';
import { selectChangeRows } from '../query/selector-changes.js';
import { renderDocWithAttachmentData } from '../db/attachments-render.js';
import type { DocRecord } from '../storage/engine.js';
import type {
  ChangesBatch,
  ChangesRequest,
  DocRevisionRequest,
  Endpoint,
  EndpointIdentity,
  EndpointInfo,
  FetchedRevision,
  RevsDiffEntry,
  Seq,
  WriteFailure,
} from './endpoint.js';
import { withJsonText } from './endpoint.js';

export interface LocalEndpointOptions {
  readonly couch: Couch;
  readonly dbName: string;
  /**
   * The URL this database has on this server, for the replication id (CouchDB
   * 3 identifies a local name by the node's own URL). The HTTP wiring passes
   * the real one; the default stands in for embedded use.
   */
  readonly identityUrl?: string;
  /** The basic-auth user and extra headers CouchDB would have put in this endpoint's id. */
  readonly identityUser?: string;
  readonly identityHeaders?: readonly (readonly [string, string])[];
}

/** Longest a longpoll may wait on a local database (the db layer bounds it further). */
export const localLongpollTimeoutMsMax = 600_000;

export class LocalEndpoint implements Endpoint {
  readonly identity: EndpointIdentity;
  readonly displayName: string;
  private readonly couch: Couch;
  private readonly dbName: string;

  constructor(options: LocalEndpointOptions) {
    this.couch = options.couch;
    this.dbName = options.dbName;
    const url = options.identityUrl ?? `http://127.0.0.1:5984/${encodeURIComponent(options.dbName)}/`;
    // CouchDB names a local database by this URL in its errors ("could not open http://…/db/").
    this.displayName = options.identityUrl ?? options.dbName;
    this.identity = {
      url,
      headers: options.identityHeaders ?? [],
      ...(options.identityUser !== undefined ? { user: options.identityUser } : {}),
    };
  }

  /** The database; an illegal name is a database that does not exist (CouchDB: `db_not_found`). */
  private async db(): Promise<Database> {
    try {
      validateDbName(this.dbName);
    } catch {
      throw notFound('Database does not exist.');
    }
    return this.couch.database(this.dbName);
  }

  async info(): Promise<EndpointInfo> {
    const info = await (await this.db()).info();
    return { dbName: info.db_name, updateSeq: info.update_seq, instanceStartTime: info.instance_start_time };
  }

  async createIfMissing(): Promise<boolean> {
    if (await this.couch.exists(this.dbName)) return false;
    try {
      await this.couch.createDatabase(this.dbName);
      return true;
    } catch (error) {
      if (isCouchError(error) && error.status === 412) return false;
      throw error;
    }
  }

  async getLocal(id: string): Promise<JsonObject | undefined> {
    const db = await this.db();
    try {
      const doc = await db.readLocalDoc(`_local/${id}`);
      return asObject(parseJson(renderLocal(doc)));
    } catch (error) {
      if (isCouchError(error) && error.status === 404) return undefined;
      throw error;
    }
  }

  async putLocal(id: string, doc: JsonObject): Promise<string> {
    const db = await this.db();
    const body: JsonObject = {};
    for (const key of Object.keys(doc)) if (key !== '_id' && key !== '_rev') body[key] = doc[key]!;
    const result = await db.writeLocalDoc({ id: `_local/${id}`, rev: doc['_rev'], body });
    return result.rev;
  }

  async changes(request: ChangesRequest): Promise<ChangesBatch> {
    const selector = request.selector === undefined ? undefined : parseSelector(request.selector);
    const db = await this.db();
    const since = localSeq(request.since);
    const docIds = request.docIds;
    const read = async (from: number): Promise<ChangesBatch> => {
      const query = { since: from, limit: request.limit, style: request.style ?? 'all_docs' } as const;
      const page = docIds === undefined ? await db.changes(query) : await db.changesOfDocs(docIds, query);
      // A selector keeps the leaves that match; `lastSeq` still covers every change examined.
      const rows = selector === undefined ? page.rows : await selectChangeRows(db, selector, page.rows);
      return {
        rows: rows.map((row) => ({ seq: row.seq, id: row.id, changes: row.changes, deleted: row.deleted })),
        lastSeq: page.lastSeq,
      };
    };
    const first = await read(since);
    if (first.rows.length > 0 || request.longpoll !== true) return first;
    const timeoutMs = Math.min(request.timeoutMs ?? localLongpollTimeoutMsMax, localLongpollTimeoutMsMax);
    const changed = await db.waitForChange(first.lastSeq as number, timeoutMs, request.signal);
    return changed ? read(first.lastSeq as number) : first;
  }

  async revsDiff(request: ReadonlyMap<string, readonly string[]>): Promise<Map<string, RevsDiffEntry>> {
    const parsed = new Map<string, Rev[]>();
    for (const [id, revs] of request) parsed.set(id, revs.map((rev) => parseRev(rev)));
    const answer = await (await this.db()).revsDiff(parsed);
    const result = new Map<string, RevsDiffEntry>();
    for (const [id, entry] of answer) {
      result.set(id, { missing: entry.missing, possibleAncestors: entry.possible_ancestors ?? [] });
    }
    return result;
  }

  async bulkGet(requests: readonly DocRevisionRequest[]): Promise<FetchedRevision[]> {
    const db = await this.db();
    const ids = [...new Set(requests.map((request) => request.id))];
    // The winners' bodies come with the records (one storage read): replication mostly fetches winners.
    const records = await db.records(ids, { withWinningBodies: true });
    const byId = new Map(ids.map((id, index) => [id, records[index]] as const));
    const results: FetchedRevision[] = [];
    for (const request of requests) {
      const record = byId.get(request.id);
      const answer = await db.openRevsOf(record, [parseRev(request.rev)], { revs: true, latest: true });
      for (const entry of answer) results.push(await fetched(db, record, request.id, entry, request.attsSince));
    }
    return results;
  }

  async pendingCount(since: Seq): Promise<number | null> {
    return (await this.db()).pendingAfter(localSeq(since));
  }

  async openRevs(id: string, revs: readonly string[], attsSince: readonly string[] = []): Promise<FetchedRevision[]> {
    const db = await this.db();
    const answer = await db.openRevs(id, revs.map((rev) => parseRev(rev)), { revs: true, latest: true });
    const record = await db.record(id);
    const results: FetchedRevision[] = [];
    for (const entry of answer) results.push(await fetched(db, record, id, entry, attsSince));
    return results;
  }

  async bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]> {
    const failures: WriteFailure[] = [];
    const updates: DocUpdate[] = [];
    for (const doc of docs) {
      try {
        updates.push(docUpdateFromJson(doc));
      } catch (error) {
        if (!isCouchError(error)) throw error;
        failures.push(failure(doc, error.error, error.reason));
      }
    }
    const results = await (await this.db()).updateDocs(updates, { newEdits: false });
    for (const result of results) {
      if (!result.ok) failures.push({ id: result.id, error: result.error.error, reason: result.error.reason });
    }
    return failures;
  }

  async ensureFullCommit(): Promise<string> {
    const db = await this.db();
    await db.flushed();
    return (await db.info()).instance_start_time;
  }

  async close(): Promise<void> {
    // The Couch owns the database; nothing to release.
  }
}

/** A fetched revision with its attachments' data inline (but those the target has, per `attsSince`). */
async function fetched(
  db: Database,
  record: DocRecord | undefined,
  id: string,
  entry: OpenRevsResult,
  attsSince: readonly string[] = [],
): Promise<FetchedRevision> {
  if ('missing' in entry) return { ok: false, id, rev: entry.missing, error: 'not_found', reason: 'missing' };
  const since = attsSince.map((rev) => parseRev(rev));
  const json = await renderDocWithAttachmentData(db.store, record, entry.ok, since);
  return { ok: true, doc: withJsonText(asObject(parseJson(json)), json) };
}

function failure(doc: JsonObject, error: string, reason: string): WriteFailure {
  const id = typeof doc['_id'] === 'string' ? doc['_id'] : '';
  const rev = doc['_rev'];
  return typeof rev === 'string' ? { id, rev, error, reason } : { id, error, reason };
}

function asObject(value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new Error('assertion failed: a rendered document is a JSON object');
  return value;
}

/** A local database's sequences are integers; accept their decimal text too. */
function localSeq(seq: unknown): number {
  if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) return seq;
  if (typeof seq === 'string' && /^[0-9]{1,15}$/.test(seq)) return Number(seq);
  throw badRequest(`Malformed sequence for a local database: ${String(seq)}`);
}
