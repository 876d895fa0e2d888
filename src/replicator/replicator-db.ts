/**
 * The `_replicator` database, CouchDB 3.x style (couch_replicator_doc_processor):
 * each document `{source, target, continuous, …}` is a replication job in the
 * scheduler. The database's changes feed is followed from the start at every
 * server start, so jobs survive restarts (their checkpoints make them resume
 * where they stopped); editing a document restarts its job, deleting it
 * stops the job.
 *
 * As in CouchDB 3, the document is written by the replicator only for the
 * terminal states: `completed` (one-shot jobs: `_replication_state`,
 * `_replication_state_time`, `_replication_stats`) and `failed` (a document
 * that is not a valid replication: `_replication_state_reason`). Documents in
 * those states are left alone; remove the fields (or write a new document)
 * to run them again. Everything else — running, pending, crashing — is shown
 * by `/_scheduler/docs`.
 *
 * Difference from CouchDB 3: local database names (not only URLs) are
 * accepted as `source`/`target`; they are reached directly, with the
 * server's rights, so keep `_replicator` writable by admins only.
 */
import { isCouchError } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import type { Couch } from '../db/couch.js';
import type { Database } from '../db/database.js';
import { docUpdateFromJson } from '../db/document.js';
import { renderDoc } from '../db/render.js';
import type { EndpointContext } from './endpoints.js';
import { buildEndpoint, localDbUrl } from './endpoints.js';
import type { ReplicationEnvironment } from './environment.js';
import { systemEnvironment } from './environment.js';
import { displayUrl, parseReplicationRequest } from './replication-request.js';
import type { Job, Scheduler, SchedulerLogger } from './scheduler.js';
import { describeError, iso8601 } from './scheduler.js';

export const replicatorDbName = '_replicator';
/** Changes read per page of the replicator database's feed. */
export const replicatorChangesBatchMax = 100;
/** How long one wait for new replicator documents lasts before it is renewed. */
export const replicatorWaitMs = 60_000;
/** Pause before following the database again after it vanished or failed. */
export const replicatorRetryMs = 1_000;
/** Attempts to write a state into a document that keeps changing under us. */
export const stateWriteAttemptsMax = 5;

/** What the processor knows of one document. */
export interface DocEntry {
  readonly docId: string;
  /** `scheduled` while it has a job; `failed`/`error` when it could not become one. */
  state: 'scheduled' | 'failed' | 'error';
  jobId: string | undefined;
  /** The parsed body that made the job, to tell real edits from our own writes. */
  key: string;
  info: string | null;
  errorCount: number;
  lastUpdated: number;
  startTime: number;
}

export interface ReplicatorDbOptions {
  readonly couch: Couch;
  readonly scheduler: Scheduler;
  /** This server's base URL, for local names. */
  readonly baseUrl: string;
  readonly logger?: SchedulerLogger;
  readonly environment?: ReplicationEnvironment;
}

export class ReplicatorDb {
  readonly entries = new Map<string, DocEntry>();
  private readonly couch: Couch;
  private readonly scheduler: Scheduler;
  private readonly baseUrl: string;
  private readonly logger: SchedulerLogger;
  private readonly environment: ReplicationEnvironment;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: ReplicatorDbOptions) {
    this.couch = options.couch;
    this.scheduler = options.scheduler;
    this.baseUrl = options.baseUrl;
    this.logger = options.logger ?? { warn: () => undefined };
    this.environment = options.environment ?? systemEnvironment;
  }

  /** Creates `_replicator` if missing and starts following it. */
  async start(): Promise<void> {
    if (!(await this.couch.exists(replicatorDbName))) {
      try {
        await this.couch.createDatabase(replicatorDbName);
      } catch (error) {
        if (!(isCouchError(error) && error.status === 412)) throw error;
      }
    }
    this.loop ??= this.follow();
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  localUrl(name: string): string {
    return localDbUrl(this.baseUrl, name);
  }

  private async follow(): Promise<void> {
    let since = 0;
    let db: Database | undefined;
    while (!this.abort.signal.aborted) {
      try {
        const current = await this.couch.database(replicatorDbName);
        if (current !== db) {
          // A new (or re-created) database: read it from the start.
          if (db !== undefined) await this.forgetAll();
          db = current;
          since = 0;
        }
        const page = await db.changes({ since, limit: replicatorChangesBatchMax, style: 'main_only' });
        for (const row of page.rows) {
          if (this.abort.signal.aborted) return;
          await this.process(db, row.id, row.deleted);
        }
        since = page.lastSeq;
        if (page.rows.length === 0) await db.waitForChange(since, replicatorWaitMs, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (!(isCouchError(error) && error.status === 404)) this.logger.warn(`_replicator: ${describeError(error)}`);
        if (db !== undefined && !(await this.couch.exists(replicatorDbName))) {
          await this.forgetAll();
          db = undefined;
        }
        await this.environment.sleep(replicatorRetryMs, this.abort.signal);
      }
    }
  }

  private async forgetAll(): Promise<void> {
    for (const docId of [...this.entries.keys()]) await this.removed(docId);
  }

  private async process(db: Database, docId: string, deleted: boolean): Promise<void> {
    if (docId.startsWith('_design/')) return;
    if (deleted) {
      await this.removed(docId);
      return;
    }
    let body: JsonObject;
    try {
      const parsed = parseJson(renderDoc(await db.getDoc(docId)));
      if (!isJsonObject(parsed)) return;
      body = parsed;
    } catch (error) {
      if (isCouchError(error) && error.status === 404) await this.removed(docId);
      else throw error;
      return;
    }
    const state = body['_replication_state'];
    if (state === 'completed' || state === 'failed') {
      // Terminal: the document itself tells its state from now on.
      const entry = this.entries.get(docId);
      if (entry !== undefined && state === 'failed') await this.removed(docId);
      else this.entries.delete(docId);
      return;
    }
    await this.updated(db, docId, body);
  }

  private async removed(docId: string): Promise<void> {
    const entry = this.entries.get(docId);
    this.entries.delete(docId);
    if (entry?.jobId !== undefined) await this.scheduler.remove(entry.jobId);
  }

  private async updated(db: Database, docId: string, body: JsonObject): Promise<void> {
    const key = replicationKey(body);
    const known = this.entries.get(docId);
    if (known !== undefined && known.key === key && (known.jobId === undefined || this.scheduler.get(known.jobId) !== undefined)) {
      return; // our own write, or an edit that changes nothing the job uses
    }
    await this.removed(docId);
    const now = this.environment.now();
    const entry: DocEntry = { docId, state: 'scheduled', jobId: undefined, key, info: null, errorCount: 0, lastUpdated: now, startTime: now };
    this.entries.set(docId, entry);
    let parsed;
    try {
      parsed = parseReplicationRequest(body);
    } catch (error) {
      entry.state = 'failed';
      entry.info = isCouchError(error) ? error.reason : describeError(error);
      await this.writeState(db, docId, { _replication_state: 'failed', _replication_state_reason: entry.info }, ['_replication_stats']);
      return;
    }
    if (parsed.kind !== 'replicate') {
      entry.state = 'failed';
      entry.info = 'a replication document cannot cancel a replication';
      await this.writeState(db, docId, { _replication_state: 'failed', _replication_state_reason: entry.info }, ['_replication_stats']);
      return;
    }
    const request = parsed.request;
    const context: EndpointContext = { couch: this.couch, local: { baseUrl: this.baseUrl }, environment: this.environment };
    try {
      const job = this.scheduler.add({
        request,
        source: buildEndpoint(request.source, request, context),
        target: buildEndpoint(request.target, request, context),
        sourceUrl: displayUrl(request.source, (name) => this.localUrl(name)),
        targetUrl: displayUrl(request.target, (name) => this.localUrl(name)),
        user: ownerOf(body),
        origin: { kind: 'document', database: replicatorDbName, docId },
        onCompleted: (finished, result) => void this.completed(docId, finished, result),
      });
      entry.jobId = job.id.id;
    } catch (error) {
      // Not schedulable now (limits, shutting down): CouchDB's transient `error` state.
      entry.state = 'error';
      entry.info = describeError(error);
      entry.errorCount++;
    }
  }

  private async completed(docId: string, job: Job, result: JsonObject): Promise<void> {
    const entry = this.entries.get(docId);
    if (entry === undefined || entry.jobId !== job.id.id) return;
    const stats: JsonObject = { ...(job.info ?? {}) };
    delete stats['source_seq'];
    delete stats['through_seq'];
    if (stats['checkpointed_source_seq'] === undefined) stats['checkpointed_source_seq'] = result['source_last_seq'] ?? null;
    stats['start_time'] = iso8601(job.startTime);
    try {
      const db = await this.couch.database(replicatorDbName);
      await this.writeState(db, docId, { _replication_state: 'completed', _replication_stats: stats }, ['_replication_state_reason']);
    } catch (error) {
      this.logger.warn(`_replicator: recording completion of ${docId}: ${describeError(error)}`);
    }
  }

  /** Sets (and removes) state members of a document, as couch_replicator_docs:update_rep_doc. */
  private async writeState(db: Database, docId: string, members: JsonObject, removed: readonly string[]): Promise<void> {
    for (let attempt = 0; attempt < stateWriteAttemptsMax; attempt++) {
      let doc: JsonObject;
      try {
        const parsed = parseJson(renderDoc(await db.getDoc(docId)));
        if (!isJsonObject(parsed)) return;
        doc = parsed;
      } catch (error) {
        if (isCouchError(error) && error.status === 404) return; // deleted meanwhile: nothing to record
        throw error;
      }
      const next: JsonObject = { ...doc };
      for (const name of removed) delete next[name];
      if (members['_replication_state'] !== doc['_replication_state']) {
        next['_replication_state_time'] = iso8601(this.environment.now());
      }
      Object.assign(next, members);
      if (stringifyJson(next) === stringifyJson(doc)) return;
      try {
        await db.updateDoc(docUpdateFromJson(next, { id: docId }));
        return;
      } catch (error) {
        if (!(isCouchError(error) && error.status === 409)) throw error;
      }
    }
  }
}

/** The members a job is made of: an edit of anything else (or our state writes) does not restart it. */
function replicationKey(body: JsonObject): string {
  const kept: JsonObject = {};
  for (const key of Object.keys(body).sort()) {
    if (key.startsWith('_')) continue;
    kept[key] = body[key]!;
  }
  return stringifyJson(kept);
}

function ownerOf(body: JsonObject): string | null {
  const owner = body['owner'];
  if (typeof owner === 'string') return owner;
  const userCtx = body['user_ctx'];
  if (isJsonObject(userCtx) && typeof userCtx['name'] === 'string') return userCtx['name'];
  return null;
}
