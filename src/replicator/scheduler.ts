/**
 * The replication scheduler: every replication this server runs — one-shot
 * and continuous `POST /_replicate` jobs and `_replicator` documents — is a
 * job here, keyed by its replication id, as in CouchDB 3's
 * couch_replicator_scheduler.
 *
 * - At most `replicationJobsMax` jobs run at once; the others wait (`pending`)
 *   in the order they were added and start as running jobs end. (CouchDB also
 *   rotates continuous jobs every `interval` when more are pending; Settee
 *   does not: a continuous job keeps its slot until stopped.)
 * - A job that crashes is retried after an exponential backoff
 *   (`backoffMsInitial` doubling up to `backoffMsMax`), state `crashing`,
 *   except a one-shot `_replicate` job, whose caller gets the error. A
 *   checkpoint resets the crash count.
 * - Progress is published through a `TaskSink` (`/_active_tasks`) and kept
 *   in `info` for `/_scheduler/jobs` and `/_scheduler/docs`.
 */
import { CouchError, isCouchError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import type { Endpoint, Seq } from './endpoint.js';
import type { ReplicationEnvironment } from './environment.js';
import { systemEnvironment } from './environment.js';
import type { ReplicationRequest } from './replication-request.js';
import type { ReplicationEvent, ReplicationResult } from './replication.js';
import { Replication } from './replication.js';
import type { ReplicationId } from './replication-id.js';

/** What `/_active_tasks` needs; `http/task-registry.ts` fits it. */
export interface TaskSink {
  add(task: Record<string, unknown>): number;
  update(id: number, task: Record<string, unknown>): void;
  remove(id: number): void;
}

export interface SchedulerLogger {
  warn(message: string): void;
}

export interface SchedulerOptions {
  readonly serverUuid: string;
  readonly tasks?: TaskSink;
  readonly logger?: SchedulerLogger;
  /** Jobs running at once (CouchDB's `[replicator] max_jobs`). */
  readonly replicationJobsMax?: number;
  /** Jobs known at once (running, pending, crashing); more are refused with 503. */
  readonly jobsMax?: number;
  readonly backoffMsInitial?: number;
  readonly backoffMsMax?: number;
  readonly environment?: ReplicationEnvironment;
}

export const replicationJobsMaxDefault = 100;
export const jobsMaxDefault = 10_000;
export const backoffMsInitialDefault = 5_000;
export const backoffMsMaxDefault = 10 * 60_000;
/** Entries of a job's event history kept (CouchDB's `max_history`). */
export const jobHistoryEntriesMax = 20;
/** Least time between two `changes_pending` look-ups of one job. */
export const pendingRefreshMsMin = 5_000;
/** Longest `close()` waits for jobs to stop. */
export const closeGraceMs = 5_000;

/** The node name Settee reports where CouchDB names its Erlang node. */
export const nodeName = 'nonode@nohost';

/** Where a job comes from: `_replicate`, or a document of a replicator database. */
export type JobOrigin =
  | { readonly kind: 'replicate' }
  | { readonly kind: 'document'; readonly database: string; readonly docId: string };

export interface JobSpec {
  readonly request: ReplicationRequest;
  readonly source: Endpoint;
  readonly target: Endpoint;
  /** URLs without credentials, for reports. */
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** Who asked (null for documents without an owner). */
  readonly user: string | null;
  readonly origin: JobOrigin;
  /** Called once when a one-shot job completes (the document records it). */
  readonly onCompleted?: (job: Job, result: ReplicationResult) => void;
}

export type JobState = 'pending' | 'running' | 'crashing' | 'completed';

export interface JobEvent {
  readonly timestamp: number;
  readonly type: 'added' | 'started' | 'stopped' | 'crashed';
  readonly reason?: string;
}

interface Waiter {
  resolve(result: ReplicationResult): void;
  reject(error: unknown): void;
}

export class Job {
  readonly id: ReplicationId;
  readonly spec: JobSpec;
  readonly startTime: number;
  readonly continuous: boolean;
  state: JobState = 'pending';
  history: JobEvent[] = [];
  errorCount = 0;
  lastError: string | undefined;
  /** Progress (`revisions_checked`, …, `through_seq`); null before the first report, as CouchDB. */
  info: JsonObject | null = null;
  replication: Replication | undefined;
  readonly pid: string;
  stopping = false;
  waiters: Waiter[] = [];
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  running: Promise<void> | undefined;
  taskId: number | undefined;
  taskStartedOn = 0;
  pendingCount: number | null = null;
  pendingCheckedAt = 0;

  constructor(id: ReplicationId, spec: JobSpec, now: number, pid: string) {
    this.id = id;
    this.spec = spec;
    this.startTime = now;
    this.continuous = spec.request.options.continuous === true;
    this.pid = pid;
  }

  record(event: JobEvent): void {
    this.history = [event, ...this.history].slice(0, jobHistoryEntriesMax);
  }
}

export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private readonly serverUuid: string;
  private readonly tasks: TaskSink | undefined;
  private readonly logger: SchedulerLogger;
  private readonly runningMax: number;
  private readonly jobsMax: number;
  private readonly backoffMsInitial: number;
  private readonly backoffMsMax: number;
  private readonly environment: ReplicationEnvironment;
  private runningCount = 0;
  private nextPid = 1;
  private closed = false;

  constructor(options: SchedulerOptions) {
    this.serverUuid = options.serverUuid;
    this.tasks = options.tasks;
    this.logger = options.logger ?? { warn: () => undefined };
    this.runningMax = options.replicationJobsMax ?? replicationJobsMaxDefault;
    this.jobsMax = options.jobsMax ?? jobsMaxDefault;
    this.backoffMsInitial = options.backoffMsInitial ?? backoffMsInitialDefault;
    this.backoffMsMax = options.backoffMsMax ?? backoffMsMaxDefault;
    this.environment = options.environment ?? systemEnvironment;
  }

  /** The replication id a spec would run under (validates its options: 400s). */
  idOf(spec: Pick<JobSpec, 'source' | 'target' | 'request'>): ReplicationId {
    return new Replication({
      source: spec.source,
      target: spec.target,
      serverUuid: this.serverUuid,
      options: spec.request.options,
      environment: this.environment,
    }).id;
  }

  /** Adds a job (or finds the one already running under the same id). */
  add(spec: JobSpec): Job {
    if (this.closed) throw new CouchError(503, 'service_unavailable', 'The replicator is shutting down.');
    const id = this.idOf(spec);
    const existing = this.jobs.get(id.id);
    if (existing !== undefined) return existing;
    if (this.jobs.size >= this.jobsMax) throw new CouchError(503, 'service_unavailable', `At most ${this.jobsMax} replication jobs.`);
    const job = new Job(id, spec, this.environment.now(), `<0.${this.nextPid++}.0>`);
    job.record({ timestamp: job.startTime, type: 'added' });
    this.jobs.set(id.id, job);
    this.enqueue(job);
    return job;
  }

  /** Runs a one-shot job to its end: its result, or its error. */
  wait(job: Job): Promise<ReplicationResult> {
    return new Promise((resolve, reject) => job.waiters.push({ resolve, reject }));
  }

  /** Stops and forgets a job; false if there is none with this id. */
  async remove(id: string): Promise<boolean> {
    const job = this.jobs.get(id) ?? this.findByBase(id);
    if (job === undefined) return false;
    this.jobs.delete(job.id.id);
    await this.stop(job);
    job.waiters.splice(0).forEach((waiter) => waiter.reject(new CouchError(404, 'not_found', 'The replication was cancelled.')));
    return true;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id) ?? this.findByBase(id);
  }

  list(): Job[] {
    return [...this.jobs.values()];
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.jobs.values()];
    this.jobs.clear();
    this.queue.length = 0;
    const stopped = Promise.all(all.map((job) => this.stop(job)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, closeGraceMs);
      timer.unref();
    });
    await Promise.race([stopped, grace]);
    clearTimeout(timer);
    const shuttingDown = new CouchError(503, 'service_unavailable', 'The server is shutting down.');
    for (const job of all) job.waiters.splice(0).forEach((waiter) => waiter.reject(shuttingDown));
  }

  // ---- running jobs ----

  private findByBase(id: string): Job | undefined {
    for (const job of this.jobs.values()) if (job.id.baseId === id) return job;
    return undefined;
  }

  private enqueue(job: Job): void {
    job.state = job.errorCount > 0 ? 'crashing' : 'pending';
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.runningCount < this.runningMax && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (this.jobs.get(job.id.id) !== job || job.stopping) continue;
      this.start(job);
    }
  }

  private start(job: Job): void {
    const replication = new Replication({
      source: job.spec.source,
      target: job.spec.target,
      serverUuid: this.serverUuid,
      options: job.spec.request.options,
      environment: this.environment,
      onEvent: (event) => this.onEvent(job, event),
    });
    job.replication = replication;
    job.state = 'running';
    job.record({ timestamp: this.environment.now(), type: 'started' });
    this.runningCount++;
    this.addTask(job);
    job.running = replication.run().then(
      (result) => this.finished(job, replication, result),
      (error: unknown) => this.crashed(job, replication, error),
    ).finally(() => {
      this.runningCount--;
      this.removeTask(job);
      this.pump();
    });
  }

  private async stop(job: Job): Promise<void> {
    job.stopping = true;
    if (job.retryTimer !== undefined) clearTimeout(job.retryTimer);
    const index = this.queue.indexOf(job);
    if (index >= 0) this.queue.splice(index, 1);
    job.replication?.cancel();
    await job.running;
  }

  private finished(job: Job, replication: Replication, result: ReplicationResult): void {
    if (job.stopping || replication.state === 'cancelled') {
      job.record({ timestamp: this.environment.now(), type: 'stopped' });
      return;
    }
    job.state = 'completed';
    job.info = this.stats(job);
    job.record({ timestamp: this.environment.now(), type: 'stopped' });
    if (this.jobs.get(job.id.id) === job) this.jobs.delete(job.id.id);
    job.waiters.splice(0).forEach((waiter) => waiter.resolve(result));
    job.spec.onCompleted?.(job, result);
  }

  private crashed(job: Job, replication: Replication, error: unknown): void {
    if (job.stopping) return;
    const reason = describeError(error);
    job.lastError = reason;
    job.record({ timestamp: this.environment.now(), type: 'crashed', reason });
    job.replication = undefined;
    const waiters = job.waiters.splice(0);
    if (waiters.length > 0 && !job.continuous && job.spec.origin.kind === 'replicate') {
      // The caller of a one-shot `_replicate` gets the error; the job ends with it.
      if (this.jobs.get(job.id.id) === job) this.jobs.delete(job.id.id);
      waiters.forEach((waiter) => waiter.reject(error));
      return;
    }
    job.waiters.push(...waiters);
    job.errorCount++;
    job.state = 'crashing';
    const delay = Math.min(this.backoffMsMax, this.backoffMsInitial * 2 ** Math.min(job.errorCount - 1, 20));
    this.logger.warn(`replication ${job.id.id} crashed (${reason}); retrying in ${Math.round(delay / 1000)} s`);
    void replication;
    job.retryTimer = setTimeout(() => {
      job.retryTimer = undefined;
      if (this.jobs.get(job.id.id) === job && !job.stopping) this.enqueue(job);
    }, delay);
    job.retryTimer.unref();
  }

  private onEvent(job: Job, event: ReplicationEvent): void {
    if (event.type === 'checkpoint') job.errorCount = 0;
    job.info = this.stats(job);
    this.refreshPending(job);
    this.updateTask(job);
  }

  /** CouchDB's `rep_stats` plus `source_seq` / `through_seq` (sequences JSON-encoded, as `seq_encode`). */
  private stats(job: Job): JsonObject {
    const replication = job.replication;
    if (replication === undefined) return job.info ?? {};
    const stats = replication.stats;
    const progress = replication.progress;
    return {
      revisions_checked: stats.missing_checked,
      missing_revisions_found: stats.missing_found,
      docs_read: stats.docs_read,
      docs_written: stats.docs_written,
      changes_pending: job.pendingCount,
      doc_write_failures: stats.doc_write_failures,
      bulk_get_docs: stats.bulk_get_docs,
      bulk_get_attempts: stats.bulk_get_attempts,
      checkpointed_source_seq: encodeSeq(progress.checkpointedSeq),
      source_seq: encodeSeq(progress.sourceSeq),
      through_seq: encodeSeq(progress.throughSeq),
    };
  }

  private refreshPending(job: Job): void {
    const now = this.environment.now();
    const replication = job.replication;
    const pendingCount = job.spec.source.pendingCount;
    if (replication === undefined || pendingCount === undefined || now - job.pendingCheckedAt < pendingRefreshMsMin) return;
    job.pendingCheckedAt = now;
    pendingCount.call(job.spec.source, replication.progress.throughSeq).then(
      (count) => {
        job.pendingCount = count;
      },
      () => undefined,
    );
  }

  // ---- /_active_tasks ----

  private taskOf(job: Job): Record<string, unknown> {
    const origin = job.spec.origin;
    const now = Math.floor(this.environment.now() / 1000);
    return {
      node: nodeName,
      pid: job.pid,
      type: 'replication',
      user: job.spec.user,
      replication_id: job.id.id,
      database: origin.kind === 'document' ? origin.database : null,
      doc_id: origin.kind === 'document' ? origin.docId : null,
      source: job.spec.sourceUrl,
      target: job.spec.targetUrl,
      continuous: job.continuous,
      checkpoint_interval: job.spec.request.options.checkpointIntervalMs ?? 30_000,
      ...(job.info ?? this.stats(job)),
      started_on: job.taskStartedOn,
      updated_on: now,
    };
  }

  private addTask(job: Job): void {
    if (this.tasks === undefined) return;
    job.taskStartedOn = Math.floor(this.environment.now() / 1000);
    try {
      job.taskId = this.tasks.add(this.taskOf(job));
    } catch {
      job.taskId = undefined; // the task list is full: the job runs unlisted
    }
  }

  private updateTask(job: Job): void {
    if (this.tasks !== undefined && job.taskId !== undefined) this.tasks.update(job.taskId, this.taskOf(job));
  }

  private removeTask(job: Job): void {
    if (this.tasks !== undefined && job.taskId !== undefined) this.tasks.remove(job.taskId);
    job.taskId = undefined;
  }
}

/** `couch_replicator_utils:seq_encode`: strings as they are, anything else as its JSON text. */
export function encodeSeq(seq: Seq): JsonValue {
  return typeof seq === 'string' ? seq : stringifyJson(seq);
}

export function describeError(error: unknown): string {
  if (isCouchError(error)) return `${error.error}: ${error.reason}`;
  return error instanceof Error ? error.message : String(error);
}

/** ISO 8601 to the second, as CouchDB's `couch_replicator_utils:iso8601`. */
export function iso8601(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
