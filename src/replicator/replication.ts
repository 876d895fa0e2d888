/**
 * One replication job: CouchDB's replication protocol as an explicit state
 * machine (states and legal transitions in `job-state.ts`). Each state has one
 * handler that does its I/O and names the next state; `run` is the only place
 * that moves between states, checks cancellation and records failure.
 *
 * The job reads the source's changes a page (at most `batchDocsMax`) at a
 * time and hands each page to a pipeline that diffs, fetches and writes it
 * (`batch-transfer.ts`) while the job reads on: at most `batchesInFlightMax`
 * pages are in flight, and their chunks share bounded fetch and write
 * concurrency, so memory stays bounded whatever the database size. Batches
 * complete in feed order as far as checkpoints are concerned
 * (`batch-pipeline.ts`): the sequence recorded is always one below which
 * everything is written, so a checkpoint never runs ahead of the target.
 */
import { CouchError, isCouchError, assert } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import type { ReplicationStats } from './checkpoint.js';
import { checkpointBody, compareCheckpoints, statsFromHistory } from './checkpoint.js';
import { BatchPipeline } from './batch-pipeline.js';
import { BatchTransfer } from './batch-transfer.js';
import type { ChangesBatch, Endpoint, Seq, WriteFailure } from './endpoint.js';
import { lowestSeq, sameSeq } from './endpoint.js';
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
  /** How far the feed has been read (pages up to here are in the pipeline or written). */
  private readSeq: Seq = lowestSeq;
  /** Everything up to here is written to the target. */
  private throughSeq: Seq = lowestSeq;
  private committedSeq: Seq = lowestSeq;
  private highestSeq: Seq = lowestSeq;
  private lastCheckpointAt = 0;
  private lastCheckpoint: JsonObject = {};
  private caughtUp = false;
  /** The page read and not yet handed to the pipeline. */
  private page: ChangesBatch | undefined;
  private readonly counters: ReplicationStats = statsFromHistory([]);
  private readonly pipeline: BatchPipeline;
  private readonly transfer: BatchTransfer;

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
    this.pipeline = new BatchPipeline(this.options.batchesInFlightMax, this.abort.signal, (seq) => {
      this.throughSeq = seq;
    });
    this.transfer = new BatchTransfer({
      source: this.source,
      target: this.target,
      options: this.options,
      counters: this.counters,
      onFailures: (failures) => this.onEvent({ type: 'write_failures', failures }),
    });
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
        await this.pipeline.settle();
        this.transition('cancelled');
        break;
      }
      try {
        this.transition(await this.step(this.current));
      } catch (error) {
        // No batch may still be writing once the job has ended.
        await this.pipeline.settle();
        if (this.abort.signal.aborted) {
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
      case 'replicating':
        return this.replicatePage();
      case 'draining':
        return this.drain();
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
    Object.assign(this.counters, statsFromHistory(resume.history));
    const start = resume.found ? resume.startSeq : (this.options.sinceSeq ?? lowestSeq);
    this.startSeq = start;
    this.readSeq = start;
    this.throughSeq = start;
    this.committedSeq = start;
    this.lastCheckpointAt = this.environment.now();
    this.lastCheckpoint = { no_changes: true, ...withoutMeta(sourceLog) };
    return 'fetching_changes';
  }

  private async fetchChanges(longpoll: boolean): Promise<JobState> {
    assert(!longpoll || this.pipeline.inFlight === 0, 'a long poll waits only with nothing in flight');
    const page = await this.source.changes({
      since: this.readSeq,
      limit: this.options.batchDocsMax,
      style: this.options.winningRevsOnly ? 'main_only' : 'all_docs',
      ...(this.options.docIds !== undefined ? { docIds: this.options.docIds } : {}),
      ...(this.options.selector !== undefined ? { selector: this.options.selector } : {}),
      ...(longpoll ? { longpoll: true, timeoutMs: this.options.longpollTimeoutMs, signal: this.abort.signal } : {}),
    });
    this.pipeline.throwIfFailed();
    this.highestSeq = page.lastSeq;
    const advanced = !sameSeq(page.lastSeq, this.readSeq);
    this.readSeq = page.lastSeq;
    if (page.rows.length > 0) {
      this.caughtUp = false;
      this.page = page;
      return 'replicating';
    }
    this.caughtUp = true;
    if (this.pipeline.inFlight > 0) return 'draining';
    this.throughSeq = page.lastSeq;
    if (longpoll) return advanced ? 'checkpointing' : 'waiting';
    return 'checkpointing';
  }

  /** Hands the page read to the pipeline once it has room; reading goes on meanwhile. */
  private async replicatePage(): Promise<JobState> {
    const page = this.page;
    assert(page !== undefined, 'a page was read');
    this.page = undefined;
    await this.pipeline.waitForRoom();
    this.pipeline.start(page.lastSeq, (signal) => this.transfer.replicate(page.rows, signal));
    const due = this.environment.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
    return due ? 'checkpointing' : 'fetching_changes';
  }

  /** Caught up: waits until every page read is written (the gap after the last one had no rows). */
  private async drain(): Promise<JobState> {
    await this.pipeline.drain();
    this.throughSeq = this.readSeq;
    return 'checkpointing';
  }

  private async checkpoint(): Promise<JobState> {
    if (!sameSeq(this.throughSeq, this.committedSeq)) await this.recordCheckpoint();
    if (!this.caughtUp) return 'fetching_changes';
    return this.options.continuous ? 'waiting' : 'completed';
  }

  // ---- helpers ----

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
    // Both sides at once: neither log is written before both commits answered.
    const [targetStart, sourceStart] = await Promise.all([this.target.ensureFullCommit(), this.source.ensureFullCommit()]);
    if (!sameStartTime(sourceStart, this.sourceStartTime)) {
      throw checkpointFailure('instance_start_time on source database has changed since last checkpoint.');
    }
    if (!sameStartTime(targetStart, this.targetStartTime)) {
      throw checkpointFailure('instance_start_time on target database has changed since last checkpoint.');
    }
    const docId = `_local/${this.id.baseId}`;
    const [sourceWrite, targetWrite] = await Promise.allSettled([
      this.source.putLocal(this.id.baseId, withRev({ _id: docId }, this.sourceLogRev, body)),
      this.target.putLocal(this.id.baseId, withRev({ _id: docId }, this.targetLogRev, body)),
    ]);
    // A side that was written keeps its new rev even when the other failed.
    if (sourceWrite.status === 'fulfilled') this.sourceLogRev = sourceWrite.value;
    if (targetWrite.status === 'fulfilled') this.targetLogRev = targetWrite.value;
    if (sourceWrite.status === 'rejected') throw sourceWrite.reason;
    if (targetWrite.status === 'rejected') throw targetWrite.reason;
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
