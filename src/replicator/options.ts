/**
 * Replication options, validated once with every bound named and defaulted.
 */
import { badRequest } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import type { Seq } from './endpoint.js';

export interface ReplicationOptions {
  /** Keep running, following the source's changes, until cancelled. */
  readonly continuous?: boolean;
  /** Replicate only these documents. */
  readonly docIds?: readonly string[];
  /** Mango selector; applied by the source's changes feed (hook: local sources do not support it yet). */
  readonly selector?: JsonObject;
  /** Where to start when there is no checkpoint. */
  readonly sinceSeq?: Seq;
  /** Create the target database if it does not exist. */
  readonly createTarget?: boolean;
  /** Replicate only winning revisions (no conflicts). */
  readonly winningRevsOnly?: boolean;
  /** Write checkpoints (CouchDB's `use_checkpoints`, default true); without them every run starts over. */
  readonly useCheckpoints?: boolean;
  /** Changes read per page (CouchDB's `worker_batch_size` is 500). */
  readonly batchDocsMax?: number;
  /** Revisions fetched and written per chunk. */
  readonly fetchRevisionsMax?: number;
  /** Pages of changes being replicated at once (read, diffed, fetched, written; checkpoints follow in order). */
  readonly batchesInFlightMax?: number;
  /** `_bulk_get` (or `open_revs`) requests at once. */
  readonly fetchConcurrencyMax?: number;
  /** `_bulk_docs` requests at once. */
  readonly writeConcurrencyMax?: number;
  /** Least time between two checkpoints while changes keep coming. */
  readonly checkpointIntervalMs?: number;
  /** How long one long poll of a continuous replication waits. */
  readonly longpollTimeoutMs?: number;
}

export interface ResolvedOptions {
  readonly continuous: boolean;
  readonly docIds: readonly string[] | undefined;
  readonly selector: JsonObject | undefined;
  readonly sinceSeq: Seq | undefined;
  readonly createTarget: boolean;
  readonly winningRevsOnly: boolean;
  readonly useCheckpoints: boolean;
  readonly batchDocsMax: number;
  readonly fetchRevisionsMax: number;
  readonly batchesInFlightMax: number;
  readonly fetchConcurrencyMax: number;
  readonly writeConcurrencyMax: number;
  readonly checkpointIntervalMs: number;
  readonly longpollTimeoutMs: number;
}

export const batchDocsDefault = 500;
export const batchDocsLimitMax = 10_000;
export const fetchRevisionsDefault = 500;
export const fetchRevisionsLimitMax = 1_000;
export const batchesInFlightDefault = 3;
export const fetchConcurrencyDefault = 4;
export const writeConcurrencyDefault = 2;
/** Bound on each of the three above (CouchDB's replicator runs 4 workers by default). */
export const concurrencyLimitMax = 32;
export const checkpointIntervalMsDefault = 30_000;
export const longpollTimeoutMsDefault = 60_000;
export const longpollTimeoutMsMax = 600_000;
export const docIdsCountMax = 100_000;

export function resolveOptions(options: ReplicationOptions): ResolvedOptions {
  if (options.docIds !== undefined && options.selector !== undefined) {
    throw badRequest('`selector`, `filter` and `doc_ids` are mutually exclusive');
  }
  if (options.docIds !== undefined) {
    if (!Array.isArray(options.docIds)) throw badRequest('parameter `doc_ids` must be an array');
    if (options.docIds.length > docIdsCountMax) throw badRequest(`At most ${docIdsCountMax} doc_ids`);
    if (options.docIds.some((id) => typeof id !== 'string')) throw badRequest('parameter `doc_ids` must contain strings');
  }
  return {
    continuous: options.continuous ?? false,
    docIds: options.docIds,
    selector: options.selector,
    sinceSeq: options.sinceSeq,
    createTarget: options.createTarget ?? false,
    winningRevsOnly: options.winningRevsOnly ?? false,
    useCheckpoints: options.useCheckpoints ?? true,
    batchDocsMax: bounded('batchDocsMax', options.batchDocsMax, batchDocsDefault, 1, batchDocsLimitMax),
    fetchRevisionsMax: bounded('fetchRevisionsMax', options.fetchRevisionsMax, fetchRevisionsDefault, 1, fetchRevisionsLimitMax),
    batchesInFlightMax: bounded('batchesInFlightMax', options.batchesInFlightMax, batchesInFlightDefault, 1, concurrencyLimitMax),
    fetchConcurrencyMax: bounded('fetchConcurrencyMax', options.fetchConcurrencyMax, fetchConcurrencyDefault, 1, concurrencyLimitMax),
    writeConcurrencyMax: bounded('writeConcurrencyMax', options.writeConcurrencyMax, writeConcurrencyDefault, 1, concurrencyLimitMax),
    checkpointIntervalMs: bounded('checkpointIntervalMs', options.checkpointIntervalMs, checkpointIntervalMsDefault, 0, 86_400_000),
    longpollTimeoutMs: bounded('longpollTimeoutMs', options.longpollTimeoutMs, longpollTimeoutMsDefault, 1, longpollTimeoutMsMax),
  };
}

function bounded(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
