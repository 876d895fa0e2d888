/**
 * The main thread's side of the write worker (write-worker.ts): sends
 * operations, matches replies to requests, bounds what is in flight, and
 * survives the worker's death.
 *
 * The worker starts on the first request. While requests are in flight it
 * keeps the process alive; idle, it does not (an engine nobody closed must
 * not hang the process). If the worker dies, every request in flight rejects
 * with 503 (its transaction may or may not have committed, as with a crash)
 * and the next request starts a new worker.
 */
import { Worker } from 'node:worker_threads';
import { serviceUnavailable } from '../../core/errors.js';
import type { WriteOperation, WriteOperationResult } from './transactions.js';
import { deserializeError, type WorkerReply, type WorkerRequest, type WriteWorkerData } from './write-protocol.js';

/** Requests in flight to the worker at most; beyond it requests fail with 503. */
export const workerRequestsMax = 4096;

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'requestId'> : never) : never;

interface InFlight {
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

export class WriteWorkerClient {
  readonly #workerData: WriteWorkerData;
  readonly #inFlight = new Map<number, InFlight>();
  #worker: Worker | undefined;
  #nextRequestId = 1;
  #drainWaiters: (() => void)[] = [];
  #closed = false;

  constructor(workerData: WriteWorkerData) {
    this.#workerData = workerData;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Runs an operation on `file` (relative to the data directory) in the worker. */
  run<O extends WriteOperation>(file: string, operation: O): Promise<WriteOperationResult<O>> {
    return this.#send({ kind: 'operation', file, operation }, transferablesOf(operation)) as Promise<
      WriteOperationResult<O>
    >;
  }

  /** Closes the worker's connection to `file` (after every operation sent before). */
  async closeFile(file: string): Promise<void> {
    if (this.#worker === undefined) return;
    await this.#send({ kind: 'closeFile', file }, []);
  }

  /** Kills the worker, for tests of the engine's recovery. */
  async killForTests(): Promise<void> {
    await this.#send({ kind: 'exitForTests' }, []).catch(() => undefined);
  }

  /** Waits for requests in flight, closes the worker's connections and ends it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#inFlight.size > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    const worker = this.#worker;
    if (worker !== undefined) {
      await this.#send({ kind: 'closeAll' }, []).catch(() => undefined);
      this.#closed = true;
      this.#worker = undefined;
      await worker.terminate();
    }
    this.#closed = true;
  }

  #send(body: RequestBody, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('SqliteEngine: used after close()'));
    if (this.#inFlight.size >= workerRequestsMax) {
      return Promise.reject(serviceUnavailable('Too many pending storage writes; retry later.'));
    }
    const worker = this.#worker ?? this.#start();
    const requestId = this.#nextRequestId++;
    return new Promise((resolve, reject) => {
      this.#inFlight.set(requestId, { resolve, reject });
      if (this.#inFlight.size === 1) worker.ref();
      worker.postMessage({ ...body, requestId } as WorkerRequest, transfer);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL('./write-worker.js', import.meta.url), { workerData: this.#workerData });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const request = this.#inFlight.get(reply.requestId);
      if (request === undefined) return;
      this.#settled(reply.requestId);
      if (reply.ok) request.resolve(reply.result);
      else request.reject(deserializeError(reply.error));
    });
    const died = (): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const requests = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const request of requests) {
        request.reject(serviceUnavailable('The storage write worker failed; the write may not have been saved.'));
      }
      this.#drained();
    };
    worker.on('error', died);
    worker.on('exit', died);
    this.#worker = worker;
    return worker;
  }

  #settled(requestId: number): void {
    this.#inFlight.delete(requestId);
    if (this.#inFlight.size === 0) {
      this.#worker?.unref();
      this.#drained();
    }
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Attachment bytes move to the worker instead of being copied by the
 * structured clone. They are copied once first: the caller's bytes may be a
 * view of a larger buffer (a request body, Buffer's pool) that must not be
 * detached, and the clone would copy that whole buffer anyway. The operation's
 * blobs are replaced by the copies (the operation is the store's own object,
 * built by encodeDocWrite, never the caller's).
 */
function transferablesOf(operation: WriteOperation): ArrayBuffer[] {
  if (operation.kind !== 'write') return [];
  const transfer: ArrayBuffer[] = [];
  for (const doc of operation.docs) {
    if (doc.newAttachments === undefined || doc.newAttachments.length === 0) continue;
    const copies = doc.newAttachments.map((blob) => {
      const bytes = new Uint8Array(blob.bytes);
      transfer.push(bytes.buffer);
      return { digest: blob.digest, bytes };
    });
    (doc as { newAttachments?: unknown }).newAttachments = copies;
  }
  return transfer;
}
