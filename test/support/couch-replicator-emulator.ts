/**
 * A replication as CouchDB 3.4's replicator runs it, for testing Settee as
 * either end against the requests a real CouchDB sends
 * (`couch_replicator_scheduler_job`, `couch_replicator_changes_reader`; a
 * batch's work is in couch-replicator-worker.ts, checkpoints in
 * couch-replicator-checkpoints.ts, the endpoint calls in
 * couch-replicator-api.ts, the HTTP client in couch-replicator-httpc.ts):
 *
 * 1. `db_open` and `get_db_info` on source then target (two GETs each);
 * 2. the checkpoint documents from source then target; the start sequence;
 * 3. the changes reader: `_changes?feed=normal|continuous&style=all_docs&
 *    since=…&timeout=<connection_timeout div 3>`; a continuous feed that
 *    ends (its `timeout` passed without changes) is asked again from its
 *    `last_seq`;
 * 4. the changes manager hands batches of up to `worker_batch_size` to
 *    `worker_processes` workers; each finished batch is reported
 *    (`report_seq_done`: the checkpointable sequence only moves past batches
 *    that are all done) and refreshes the pending count (a GET of the
 *    source's info, at most once per `connection_timeout`);
 * 5. a checkpoint every `checkpoint_interval`, and a last one when a
 *    one-shot replication ends or a continuous one is stopped.
 */
import { randomBytes } from 'node:crypto';
import type { CouchDoc } from './couch-doc-json.js';
import { parseRev } from './couch-doc-json.js';
import type { ChangeRow, SourceEndpoint, TargetEndpoint } from './couch-replicator-api.js';
import { checkpointBody, compareReplicationLogs, findLog, updateCheckpoint } from './couch-replicator-checkpoints.js';
import type { ReplicationStats, WorkerOptions } from './couch-replicator-worker.js';
import { newStats, Worker } from './couch-replicator-worker.js';

export { couchReplicationId } from './couch-replicator-checkpoints.js';

export interface EmulatedReplication extends WorkerOptions {
  /** The base replication id (version 4), naming the checkpoint documents. */
  readonly replicationId: string;
  /** `worker_batch_size` (CouchDB's default 500). */
  readonly workerBatchSize?: number;
  /** `worker_processes` (CouchDB's default 4). */
  readonly workerProcesses?: number;
  readonly continuous?: boolean;
  /** `create_target`. */
  readonly createTarget?: boolean;
  /** `connection_timeout` (CouchDB's default 30 s); the feed's `timeout` is a third of it, at least 1 s. */
  readonly connectionTimeoutMs?: number;
  /** `checkpoint_interval` (CouchDB's default 30 s). */
  readonly checkpointIntervalMs?: number;
  /** Called after each batch, before the worker takes the next one (tests pause here). */
  readonly afterBatch?: (batchNumber: number) => Promise<void>;
}

export interface ReplicationOutcome {
  readonly sessionId: string;
  readonly startSeq: unknown;
  /** The last sequence checkpointed by this run, or undefined. */
  readonly checkpointedSeq: unknown;
  readonly checkpoints: number;
  readonly stats: ReplicationStats;
  readonly batches: number;
}

export interface RunningReplication {
  /** Settles when a one-shot replication ends (or a continuous one is stopped). */
  readonly done: Promise<ReplicationOutcome>;
  /** Stops a continuous replication: the feed is torn down, batches in hand finish, a last checkpoint is written. */
  stop(): Promise<ReplicationOutcome>;
  /** The sequence the workers have finished through (`current_through_seq`). */
  throughSeq(): unknown;
}

/** A one-shot replication, start to end. */
export async function runReplication(options: EmulatedReplication): Promise<ReplicationOutcome> {
  if (options.continuous === true) throw new Error('runReplication is one-shot; use startReplication');
  return (await startReplication(options)).done;
}

export async function startReplication(options: EmulatedReplication): Promise<RunningReplication> {
  const job = new ReplicationJob(options);
  await job.init();
  const done = job.start();
  done.catch(() => undefined);
  return { done, stop: () => job.stop(), throughSeq: () => job.through.seq };
}

/** A sequence as the scheduler job tracks it: `{Ts, Seq}`, Ts counting batches. */
interface TsSeq {
  readonly ts: number;
  readonly seq: unknown;
}

type QueueItem = ChangeRow | { readonly lastSeq: unknown };

class ReplicationJob {
  readonly #options: EmulatedReplication;
  readonly #source: SourceEndpoint;
  readonly #target: TargetEndpoint;
  readonly #startedAt = new Date();
  readonly #sessionId = randomBytes(16).toString('hex');
  readonly #stats = newStats();
  readonly #abort = new AbortController();
  #sourceStartTime = '';
  #targetStartTime = '';
  #sourceLog: CouchDoc | undefined;
  #targetLog: CouchDoc | undefined;
  #startSeq: unknown = 0;
  #history: unknown[] = [];
  // the changes queue (couch_work_queue) and the changes manager's count
  readonly #queue: QueueItem[] = [];
  #queueClosed = false;
  #queueWaiters: (() => void)[] = [];
  #batches = 0;
  // report_seq_done's state; highest_seq_done starts at {0, ?LOWEST_SEQ}, whatever the start sequence
  #inProgress: TsSeq[] = [];
  through: TsSeq = { ts: 0, seq: 0 };
  #highestDone: TsSeq = { ts: 0, seq: 0 };
  #committed: TsSeq = { ts: 0, seq: 0 };
  #checkpointedSeq: unknown;
  #checkpoints = 0;
  #checkpointChain: Promise<void> = Promise.resolve();
  #pendingCountAt: number | undefined;
  #stopping = false;
  #done: Promise<ReplicationOutcome> | undefined;

  constructor(options: EmulatedReplication) {
    this.#options = options;
    this.#source = options.source;
    this.#target = options.target;
  }

  /** init_state. */
  async init(): Promise<void> {
    await this.#source.open();
    await this.#target.open(this.#options.createTarget === true);
    const sourceInfo = await this.#source.info();
    const targetInfo = await this.#target.info();
    this.#sourceStartTime = String(sourceInfo['instance_start_time']);
    this.#targetStartTime = String(targetInfo['instance_start_time']);
    this.#sourceLog = await findLog(this.#source, this.#options.replicationId);
    this.#targetLog = await findLog(this.#target, this.#options.replicationId);
    const start = compareReplicationLogs(this.#sourceLog.body, this.#targetLog.body);
    this.#startSeq = start.startSeq;
    this.#history = start.history;
    this.through = this.#committed = { ts: 0, seq: start.startSeq };
  }

  start(): Promise<ReplicationOutcome> {
    this.#done ??= this.#run();
    return this.#done;
  }

  async stop(): Promise<ReplicationOutcome> {
    this.#stopping = true;
    this.#abort.abort();
    this.#closeQueue();
    return this.start();
  }

  async #run(): Promise<ReplicationOutcome> {
    const intervalMs = this.#options.checkpointIntervalMs ?? 30_000;
    // a failed checkpoint stops the job (checkpoint_commit_failure)
    let failure: unknown;
    const timer = setInterval(() => void this.#checkpoint().catch((error: unknown) => (failure ??= error)), intervalMs);
    try {
      const reader = this.#readChanges();
      const workers = Array.from({ length: this.#options.workerProcesses ?? 4 }, () => this.#runWorker(new Worker(this.#options, this.#stats)));
      await Promise.all([reader, ...workers]);
    } finally {
      clearInterval(timer);
    }
    if (failure !== undefined) throw failure;
    // do_last_checkpoint: nothing when no batch was done; a stopped job checkpoints through what is done
    if (this.#stopping) await this.#checkpoint();
    else if (this.#highestDone.seq !== 0) {
      this.through = this.#highestDone;
      await this.#checkpoint();
    }
    return {
      sessionId: this.#sessionId,
      startSeq: this.#startSeq,
      checkpointedSeq: this.#checkpointedSeq,
      checkpoints: this.#checkpoints,
      stats: this.#stats,
      batches: this.#batches,
    };
  }

  /** couch_replicator_changes_reader: one request, or in continuous mode one after another from the last `last_seq`. */
  async #readChanges(): Promise<void> {
    let lastSeq = this.#startSeq;
    const timeoutMs = Math.max(1000, Math.floor((this.#options.connectionTimeoutMs ?? 30_000) / 3));
    const continuous = this.#options.continuous === true;
    try {
      do {
        await this.#source.changesSince(lastSeq, {
          continuous,
          timeoutMs,
          signal: this.#abort.signal,
          onRow: (row) => {
            this.#enqueue(row);
            lastSeq = row.seq;
          },
          onLastSeq: (seq) => {
            if (seq !== undefined && seq !== lastSeq) this.#enqueue({ lastSeq: seq });
            if (seq !== undefined) lastSeq = seq;
          },
        });
      } while (continuous && !this.#stopping);
    } catch (error) {
      if (!this.#stopping) throw error;
    } finally {
      this.#closeQueue();
    }
  }

  #enqueue(item: QueueItem): void {
    if (this.#queueClosed) return;
    this.#queue.push(item);
    this.#wake();
  }

  #closeQueue(): void {
    this.#queueClosed = true;
    if (this.#stopping) this.#queue.length = 0;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#queueWaiters;
    this.#queueWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The changes manager: up to a batch of queued items, or undefined once the queue is closed and empty. */
  async #nextBatch(): Promise<{ changes: ChangeRow[]; reportSeq: TsSeq } | undefined> {
    while (this.#queue.length === 0 && !this.#queueClosed) await new Promise<void>((resolve) => this.#queueWaiters.push(resolve));
    if (this.#queue.length === 0) return undefined;
    const items = this.#queue.splice(0, this.#options.workerBatchSize ?? 500);
    const last = items[items.length - 1] as QueueItem;
    this.#batches += 1;
    const reportSeq = { ts: this.#batches, seq: 'lastSeq' in last ? last.lastSeq : last.seq };
    this.#inProgress.push(reportSeq);
    return { changes: items.filter((item): item is ChangeRow => !('lastSeq' in item)), reportSeq };
  }

  async #runWorker(worker: Worker): Promise<void> {
    for (let batch = await this.#nextBatch(); batch !== undefined; batch = await this.#nextBatch()) {
      if (batch.changes.length > 0) await worker.processBatch(batch.changes);
      await this.#reportSeqDone(batch.reportSeq);
      await this.#options.afterBatch?.(batch.reportSeq.ts);
    }
  }

  /** report_seq_done: the through sequence passes a batch only when every earlier batch is done. */
  async #reportSeqDone(seq: TsSeq): Promise<void> {
    const first = this.#inProgress[0];
    let through = this.through;
    if (this.#inProgress.length === 0 || first === seq) {
      through = seq;
      this.#inProgress = this.#inProgress.slice(1);
    } else {
      this.#inProgress = this.#inProgress.filter((entry) => entry !== seq);
    }
    if (seq.ts > this.#highestDone.ts) this.#highestDone = seq;
    this.through = this.#inProgress.length === 0 && this.#highestDone.ts > through.ts ? this.#highestDone : through;
    // update_task → get_pending_count: a numeric sequence is compared with the source's update_seq
    const cacheMs = this.#options.connectionTimeoutMs ?? 30_000;
    if (this.#pendingCountAt === undefined || performance.now() - this.#pendingCountAt > cacheMs) {
      this.#pendingCountAt = performance.now();
      // (a string sequence, from a clustered CouchDB, would ask `_changes?since=…&limit=0` instead)
      if (typeof this.#highestDone.seq === 'number') await this.#source.info();
    }
  }

  /** do_checkpoint, one at a time. */
  #checkpoint(): Promise<void> {
    this.#checkpointChain = this.#checkpointChain.then(() => this.#doCheckpoint());
    return this.#checkpointChain;
  }

  async #doCheckpoint(): Promise<void> {
    const through = this.through;
    if (through.ts === this.#committed.ts && through.seq === this.#committed.seq) return;
    const [sourceStart, targetStart] = await Promise.all([this.#source.ensureFullCommit(), this.#target.ensureFullCommit()]);
    const starts = [['source', sourceStart, this.#sourceStartTime], ['target', targetStart, this.#targetStartTime]] as const;
    for (const [name, now, before] of starts) {
      if (now !== before && now !== '0' && before !== '0') {
        throw new Error(`checkpoint_commit_failure: instance_start_time on ${name} database has changed since last checkpoint.`);
      }
    }
    const body = checkpointBody({
      sessionId: this.#sessionId,
      startedAt: this.#startedAt,
      startSeq: this.#startSeq,
      throughSeq: through.seq,
      stats: this.#stats,
      history: this.#history,
    });
    const logs: [SourceEndpoint | TargetEndpoint, CouchDoc | undefined][] = [[this.#source, this.#sourceLog], [this.#target, this.#targetLog]];
    const written: CouchDoc[] = [];
    for (const [endpoint, log] of logs) {
      if (log === undefined) throw new Error('assertion failed: the checkpoint documents were read at start');
      const rev = parseRev(await updateCheckpoint(endpoint, { ...log, body }));
      written.push({ ...log, revs: { start: rev.pos, ids: [rev.id] } });
    }
    [this.#sourceLog, this.#targetLog] = written;
    this.#committed = through;
    this.#checkpointedSeq = through.seq;
    this.#checkpoints += 1;
  }
}
