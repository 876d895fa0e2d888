/**
 * One replication job: CouchDB's replication protocol as an explicit state
 * machine (states and legal transitions in `job-state.ts`). Each state has one
 * handler that does its I/O and names the next state; `run` is the only place
 * that moves between states, checks cancellation and records failure.
 *
 * Work is sequential and bounded: one page of at most `batchDocsMax` changes
 * is diffed against the target at a time, and its missing revisions are
 * fetched and written in chunks of at most `fetchRevisionsMax`, so memory
 * holds one chunk of documents whatever the database size. The sequence
 * reached is recorded only after a whole page is written, so a checkpoint
 * never runs ahead of the target.
 */
import { CouchError, isCouchError, assert } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import type { ReplicationStats } from './checkpoint.js';
import { checkpointBody, compareCheckpoints, statsFromHistory } from './checkpoint.js';
import type { ChangeRow, DocRevisionRequest, Endpoint, FetchedRevision, Seq, WriteFailure } from './endpoint.js';
import { BulkGetUnsupportedError, lowestSeq, sameSeq } from './endpoint.js';
import type { ReplicationEnvironment } from './environment.js';
import { randomHexId, rfc1123, systemEnvironment } from './environment.js';
import type { JobState } from './job-state.js';
import { canTransition, isFinal } from './job-state.js';
import type { ReplicationOptions, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';
import type { ReplicationId } from './replication-id.js';
import { replicationId, replicationIdVersion } from './replication-id.js';

export type ReplicationEvent =
  | { readonly type: 'state'; readonly from: JobState; readonly to: JobState }
  | { readonly type: 'checkpoint'; readonly seq: Seq }
  | { readonly type: 'write_failures'; readonly failures: readonly WriteFailure[] };

export interface ReplicationConfig {
  readonly source: Endpoint;
  readonly target: Endpoint;
  /** This server's uuid, part of the replication id. */
  readonly serverUuid: string;
  readonly options?: ReplicationOptions;
  readonly environment?: ReplicationEnvironment;
  readonly onEvent?: (event: ReplicationEvent) => void;
}

/** `_replicate`'s answer: `{ok, [no_changes], session_id, source_last_seq, replication_id_version, history}`. */
export type ReplicationResult = JsonObject;

/** A page of changes being replicated. */
interface Batch {
  readonly rows: readonly ChangeRow[];
  readonly lastSeq: Seq;
  /** Missing revisions per document, in feed order. */
  missing: { readonly id: string; readonly revs: readonly string[]; readonly attsSince: readonly string[] }[];
  /** Documents fetched and not yet written. */
  fetched: JsonObject[];
}

export class Replication {
  readonly id: ReplicationId;
  readonly sessionId: string;
  private readonly source: Endpoint;
  private readonly target: Endpoint;
  private readonly options: ResolvedOptions;
  private readonly environment: ReplicationEnvironment;
  private readonly onEvent: (event: ReplicationEvent) => void;
  private readonly abort = new AbortController();
  private current: JobState = 'starting';
  private running: Promise<ReplicationResult> | undefined;
  private failure: unknown;

  // What the job has learned, set by the state that learns it.
  private readonly startTime: string;
  private sourceStartTime = '0';
  private targetStartTime = '0';
  private sourceLogRev: string | undefined;
  private targetLogRev: string | undefined;
  private history: readonly JsonValue[] = [];
  private startSeq: Seq = lowestSeq;
  private throughSeq: Seq = lowestSeq;
  private committedSeq: Seq = lowestSeq;
  private highestSeq: Seq = lowestSeq;
  private lastCheckpointAt = 0;
  private lastCheckpoint: JsonObject = {};
  private caughtUp = false;
  private bulkGetSupported = true;
  private batch: Batch | undefined;
  private counters: ReplicationStats = statsFromHistory([]);

  constructor(config: ReplicationConfig) {
    this.source = config.source;
    this.target = config.target;
    this.options = resolveOptions(config.options ?? {});
    this.environment = config.environment ?? systemEnvironment;
    this.onEvent = config.onEvent ?? (() => undefined);
    this.id = replicationId({
      serverUuid: config.serverUuid,
      source: this.source.identity,
      target: this.target.identity,
      ...(this.options.docIds !== undefined ? { docIds: this.options.docIds } : {}),
      ...(this.options.selector !== undefined ? { selector: this.options.selector } : {}),
      winningRevsOnly: this.options.winningRevsOnly,
      ...(this.options.sinceSeq !== undefined ? { sinceSeq: this.options.sinceSeq } : {}),
      continuous: this.options.continuous,
      createTarget: this.options.createTarget,
    });
    this.sessionId = randomHexId(this.environment.random);
    this.startTime = rfc1123(this.environment.now());
  }

  get state(): JobState {
    return this.current;
  }

  get stats(): Readonly<ReplicationStats> {
    return { ...this.counters };
  }

  get checkpointedSeq(): Seq {
    return this.committedSeq;
  }

  /** Where the job is: the sequence written through, and the highest the source has shown. */
  get progress(): { readonly throughSeq: Seq; readonly sourceSeq: Seq; readonly checkpointedSeq: Seq } {
    return { throughSeq: this.throughSeq, sourceSeq: this.highestSeq, checkpointedSeq: this.committedSeq };
  }

  /** Runs to the end: resolves with the result (also when cancelled), rejects when it failed. */
  run(): Promise<ReplicationResult> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops at the next step (a long poll in progress ends at once). */
  cancel(): void {
    this.abort.abort();
  }

  private async loop(): Promise<ReplicationResult> {
    while (!isFinal(this.current)) {
      if (this.abort.signal.aborted) {
        this.transition('cancelled');
        break;
      }
      try {
        this.transition(await this.step(this.current));
      } catch (error) {
        if (this.abort.signal.aborted && this.current === 'waiting') {
          this.transition('cancelled');
          break;
        }
        this.failure = error;
        this.transition('failed');
      }
    }
    if (this.current === 'failed') throw this.failure;
    return { ok: true, ...this.lastCheckpoint };
  }

  private transition(to: JobState): void {
    assert(canTransition(this.current, to), `replication cannot go from ${this.current} to ${to}`);
    const from = this.current;
    this.current = to;
    this.onEvent({ type: 'state', from, to });
  }

  private step(state: JobState): Promise<JobState> {
    switch (state) {
      case 'starting':
        return Promise.resolve('checking_peers');
      case 'checking_peers':
        return this.checkPeers();
      case 'reading_checkpoint':
        return this.readCheckpoint();
      case 'fetching_changes':
        return this.fetchChanges(false);
      case 'waiting':
        return this.fetchChanges(true);
      case 'diffing':
        return this.diff();
      case 'fetching_docs':
        return this.fetchDocs();
      case 'writing':
        return this.write();
      case 'checkpointing':
        return this.checkpoint();
      default:
        throw new Error(`assertion failed: no handler for ${state}`);
    }
  }

  // ---- state handlers ----

  private async checkPeers(): Promise<JobState> {
    const sourceInfo = await openOrFail(this.source, () => this.source.info());
    if (this.options.createTarget) await this.target.createIfMissing();
    const targetInfo = await openOrFail(this.target, () => this.target.info());
    this.sourceStartTime = sourceInfo.instanceStartTime;
    this.highestSeq = sourceInfo.updateSeq;
    this.targetStartTime = targetInfo.instanceStartTime;
    return 'reading_checkpoint';
  }

  private async readCheckpoint(): Promise<JobState> {
    const [sourceLog, targetLog] = await Promise.all([
      this.source.getLocal(this.id.baseId),
      this.target.getLocal(this.id.baseId),
    ]);
    this.sourceLogRev = revOf(sourceLog);
    this.targetLogRev = revOf(targetLog);
    const resume = compareCheckpoints(withoutMeta(sourceLog), withoutMeta(targetLog));
    this.history = resume.history;
    this.counters = statsFromHistory(resume.history);
    const start = resume.found ? resume.startSeq : (this.options.sinceSeq ?? lowestSeq);
    this.startSeq = start;
    this.throughSeq = start;
    this.committedSeq = start;
    this.lastCheckpointAt = this.environment.now();
    this.lastCheckpoint = { no_changes: true, ...withoutMeta(sourceLog) };
    return 'fetching_changes';
  }

  private async fetchChanges(longpoll: boolean): Promise<JobState> {
    const page = await this.source.changes({
      since: this.throughSeq,
      limit: this.options.batchDocsMax,
      style: this.options.winningRevsOnly ? 'main_only' : 'all_docs',
      ...(this.options.docIds !== undefined ? { docIds: this.options.docIds } : {}),
      ...(this.options.selector !== undefined ? { selector: this.options.selector } : {}),
      ...(longpoll ? { longpoll: true, timeoutMs: this.options.longpollTimeoutMs, signal: this.abort.signal } : {}),
    });
    this.highestSeq = page.lastSeq;
    if (page.rows.length > 0) {
      this.caughtUp = false;
      this.batch = { rows: page.rows, lastSeq: page.lastSeq, missing: [], fetched: [] };
      return 'diffing';
    }
    this.caughtUp = true;
    const advanced = !sameSeq(page.lastSeq, this.throughSeq);
    this.throughSeq = page.lastSeq;
    if (longpoll) return advanced ? 'checkpointing' : 'waiting';
    return 'checkpointing';
  }

  private async diff(): Promise<JobState> {
    const batch = this.currentBatch();
    const request = new Map<string, string[]>();
    for (const row of batch.rows) {
      const revs = request.get(row.id) ?? [];
      for (const change of row.changes) if (!revs.includes(change.rev)) revs.push(change.rev);
      request.set(row.id, revs);
    }
    for (const revs of request.values()) this.counters.missing_checked += revs.length;
    const answer = await this.target.revsDiff(request);
    for (const [id] of request) {
      const entry = answer.get(id);
      if (entry === undefined || entry.missing.length === 0) continue;
      this.counters.missing_found += entry.missing.length;
      batch.missing.push({ id, revs: entry.missing, attsSince: entry.possibleAncestors });
    }
    return batch.missing.length > 0 ? 'fetching_docs' : this.finishBatch();
  }

  private async fetchDocs(): Promise<JobState> {
    const batch = this.currentBatch();
    const chunk: DocRevisionRequest[] = [];
    while (batch.missing.length > 0) {
      const doc = batch.missing[0]!;
      if (chunk.length > 0 && chunk.length + doc.revs.length > this.options.fetchRevisionsMax) break;
      batch.missing.shift();
      for (const rev of doc.revs) chunk.push({ id: doc.id, rev, attsSince: doc.attsSince });
    }
    const results = await this.fetchRevisions(chunk);
    const failures: WriteFailure[] = [];
    for (const result of results) {
      if (result.ok) {
        this.counters.docs_read++;
        batch.fetched.push(result.doc);
      } else if (result.error !== 'not_found') {
        // A revision compacted away since the diff is superseded by a later change; anything else is a failure.
        failures.push({ id: result.id, rev: result.rev, error: result.error, reason: result.reason });
      }
    }
    this.recordFailures(failures);
    return 'writing';
  }

  private async write(): Promise<JobState> {
    const batch = this.currentBatch();
    const docs = batch.fetched;
    batch.fetched = [];
    if (docs.length > 0) {
      const failures = await this.target.bulkDocs(docs);
      this.counters.docs_written += docs.length - failures.length;
      this.recordFailures(failures);
    }
    return batch.missing.length > 0 ? 'fetching_docs' : this.finishBatch();
  }

  private async checkpoint(): Promise<JobState> {
    if (!sameSeq(this.throughSeq, this.committedSeq)) await this.recordCheckpoint();
    if (!this.caughtUp) return 'fetching_changes';
    return this.options.continuous ? 'waiting' : 'completed';
  }

  // ---- helpers ----

  private currentBatch(): Batch {
    assert(this.batch !== undefined, 'a batch is in progress');
    return this.batch;
  }

  /** The page is written: its last sequence is safe to record. */
  private finishBatch(): JobState {
    this.throughSeq = this.currentBatch().lastSeq;
    this.batch = undefined;
    const due = this.environment.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
    return due ? 'checkpointing' : 'fetching_changes';
  }

  private async fetchRevisions(requests: readonly DocRevisionRequest[]): Promise<FetchedRevision[]> {
    if (this.bulkGetSupported) {
      this.counters.bulk_get_attempts += requests.length;
      try {
        const results = await this.source.bulkGet(requests);
        this.counters.bulk_get_docs += results.filter((result) => result.ok).length;
        return results;
      } catch (error) {
        if (!(error instanceof BulkGetUnsupportedError)) throw error;
        this.bulkGetSupported = false;
      }
    }
    const byDoc = new Map<string, string[]>();
    for (const request of requests) byDoc.set(request.id, [...(byDoc.get(request.id) ?? []), request.rev]);
    const results: FetchedRevision[] = [];
    for (const [id, revs] of byDoc) {
      const attsSince = requests.find((request) => request.id === id)?.attsSince ?? [];
      results.push(...(await this.source.openRevs(id, revs, attsSince)));
    }
    return results;
  }

  private recordFailures(failures: readonly WriteFailure[]): void {
    if (failures.length === 0) return;
    this.counters.doc_write_failures += failures.length;
    this.onEvent({ type: 'write_failures', failures });
  }

  private async recordCheckpoint(): Promise<void> {
    const body = checkpointBody({
      sessionId: this.sessionId,
      startTime: this.startTime,
      endTime: rfc1123(this.environment.now()),
      startSeq: this.startSeq,
      throughSeq: this.throughSeq,
      stats: this.counters,
      previousHistory: this.history,
      docIdsReplication: this.options.docIds !== undefined,
    });
    if (this.options.useCheckpoints) await this.writeCheckpoint(body);
    this.committedSeq = this.throughSeq;
    this.lastCheckpoint = body;
    this.lastCheckpointAt = this.environment.now();
    this.onEvent({ type: 'checkpoint', seq: this.throughSeq });
  }

  private async writeCheckpoint(body: JsonObject): Promise<void> {
    const targetStart = await this.target.ensureFullCommit();
    const sourceStart = await this.source.ensureFullCommit();
    if (!sameStartTime(sourceStart, this.sourceStartTime)) {
      throw checkpointFailure('instance_start_time on source database has changed since last checkpoint.');
    }
    if (!sameStartTime(targetStart, this.targetStartTime)) {
      throw checkpointFailure('instance_start_time on target database has changed since last checkpoint.');
    }
    const docId = `_local/${this.id.baseId}`;
    this.sourceLogRev = await this.source.putLocal(this.id.baseId, withRev({ _id: docId }, this.sourceLogRev, body));
    this.targetLogRev = await this.target.putLocal(this.id.baseId, withRev({ _id: docId }, this.targetLogRev, body));
  }
}

/** Runs a one-shot replication to the end. */
export function replicate(config: ReplicationConfig): Promise<ReplicationResult> {
  return new Replication(config).run();
}

async function openOrFail<T>(endpoint: Endpoint, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (isCouchError(error) && error.status === 404) {
      throw new CouchError(404, 'db_not_found', `could not open ${endpoint.displayName}`);
    }
    throw error;
  }
}

function checkpointFailure(reason: string): CouchError {
  return new CouchError(500, 'checkpoint_commit_failure', reason);
}

/** CouchDB accepts `"0"` on either side (peers that do not track start times). */
function sameStartTime(now: string, before: string): boolean {
  return now === before || now === '0' || before === '0';
}

function revOf(doc: JsonObject | undefined): string | undefined {
  const rev = doc?.['_rev'];
  return typeof rev === 'string' ? rev : undefined;
}

function withoutMeta(doc: JsonObject | undefined): JsonObject | undefined {
  if (doc === undefined) return undefined;
  const body: JsonObject = {};
  for (const key of Object.keys(doc)) if (key !== '_id' && key !== '_rev') body[key] = doc[key]!;
  return body;
}

function withRev(head: JsonObject, rev: string | undefined, body: JsonObject): JsonObject {
  return rev === undefined ? { ...head, ...body } : { ...head, _rev: rev, ...body };
}

export { replicationIdVersion };
