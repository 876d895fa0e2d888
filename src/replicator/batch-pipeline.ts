/**
 * The batches a replication job has in flight, in feed order, with ordered
 * completion: batches may finish in any order, but the sequence the job may
 * checkpoint (`onWritten`) only moves past a batch once it and every batch
 * before it are fully written. At most `batchesInFlightMax` batches are held
 * (a finished batch behind an unfinished one still counts, so memory stays
 * bounded whatever the completion order).
 *
 * The first batch that fails fails the pipeline: the others are told to stop
 * (their signal aborts) and every wait rejects with that error.
 */
import { assert } from '../core/errors.js';
import type { Seq } from './endpoint.js';

interface InFlight {
  readonly lastSeq: Seq;
  done: boolean;
  readonly settled: Promise<void>;
}

export class BatchPipeline {
  private readonly queue: InFlight[] = [];
  private readonly stop = new AbortController();
  private failed: { readonly error: unknown } | undefined;
  private wakeups: (() => void)[] = [];

  constructor(
    readonly batchesInFlightMax: number,
    /** The job's own signal: cancelling the job stops its batches too. */
    jobSignal: AbortSignal,
    /** Called with the last sequence of a batch once it and all before it are written. */
    private readonly onWritten: (seq: Seq) => void,
  ) {
    assert(Number.isInteger(batchesInFlightMax) && batchesInFlightMax >= 1, 'batchesInFlightMax is a positive integer');
    if (jobSignal.aborted) this.stop.abort();
    else jobSignal.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  get inFlight(): number {
    return this.queue.length;
  }

  get hasRoom(): boolean {
    return this.queue.length < this.batchesInFlightMax;
  }

  /** Starts a batch; the caller first waits for room. */
  start(lastSeq: Seq, work: (signal: AbortSignal) => Promise<void>): void {
    this.throwIfFailed();
    assert(this.hasRoom, 'a batch starts only when the pipeline has room');
    const entry: InFlight = {
      lastSeq,
      done: false,
      settled: work(this.stop.signal).then(
        () => this.finished(entry),
        (error: unknown) => this.fail(error),
      ),
    };
    this.queue.push(entry);
  }

  /** Resolves when another batch may start; rejects when a batch failed. */
  async waitForRoom(): Promise<void> {
    while (!this.hasRoom) {
      this.throwIfFailed();
      await this.nextChange();
    }
    this.throwIfFailed();
  }

  /** Resolves when every batch is written; rejects when one failed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0) {
      this.throwIfFailed();
      await this.nextChange();
    }
    this.throwIfFailed();
  }

  /** Throws the error of the batch that failed, if one did. */
  throwIfFailed(): void {
    if (this.failed !== undefined) throw this.failed.error;
  }

  /** Stops every batch at its next step and waits until none runs (after a failure or a cancel). */
  async settle(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.queue.map((entry) => entry.settled));
  }

  private finished(entry: InFlight): void {
    entry.done = true;
    while (this.queue.length > 0 && this.queue[0]!.done) this.onWritten(this.queue.shift()!.lastSeq);
    this.wake();
  }

  private fail(error: unknown): void {
    this.failed ??= { error };
    this.stop.abort();
    // A failed batch is never written: it stays in the queue (settled), so `onWritten` never passes it.
    this.wake();
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  private wake(): void {
    const wakeups = this.wakeups;
    this.wakeups = [];
    for (const wakeup of wakeups) wakeup();
  }
}
