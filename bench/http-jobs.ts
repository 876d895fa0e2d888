/**
 * What the HTTP benchmark asks of its load-generator child and what it gets
 * back, plus the deterministic data both sides derive from a seed (document
 * ids, ~1 KB bodies) so that only small job descriptions cross the IPC channel.
 */
import type { JsonObject } from '../src/core/json-value.js';
import { makeDoc, randomDocId, seededRandom } from './docs.js';

/** A server under load: Settee or the minimal reference server. */
export interface LoadTarget {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly baseUrl: string;
  /** Sent with every request (the reference server ignores it; it keeps request sizes equal). */
  readonly authorization: string;
}

/** Which paths an autocannon run requests. */
export type PathPlan =
  /** `PUT /db/<fresh id>` with a ~1 KB body: every request creates a document. */
  | { readonly kind: 'newDocs'; readonly db: string; readonly seed: number }
  /** `GET /db/<id>` of an id drawn at random among the `count` ids of `docIds(seed, count)`. */
  | { readonly kind: 'existingDocs'; readonly db: string; readonly seed: number; readonly count: number };

/** Fixed-rate request runs: autocannon's own HTTP client, `connections` keep-alive sockets. */
export interface AutocannonJob {
  readonly kind: 'autocannon';
  readonly target: LoadTarget;
  readonly paths: PathPlan;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** `POST /db/_bulk_docs` of `docs` new documents, `batchDocs` per request, one request at a time. */
export interface BulkLoadJob {
  readonly kind: 'bulkLoad';
  readonly target: LoadTarget;
  readonly db: string;
  readonly docs: number;
  readonly batchDocs: number;
  readonly seed: number;
}

/** Whole passes over `GET /db/_changes?since=0` (following `last_seq` if the server pages it). */
export interface ChangesJob {
  readonly kind: 'changes';
  readonly target: LoadTarget;
  readonly db: string;
  /** Passes repeat until this much request time has passed (at least one pass). */
  readonly durationMs: number;
}

/** Whole passes over `GET /db/_all_docs?include_docs=true`, `pageRows` rows per request. */
export interface AllDocsJob {
  readonly kind: 'allDocs';
  readonly target: LoadTarget;
  readonly db: string;
  readonly pageRows: number;
  readonly durationMs: number;
}

/**
 * Workers each looping `GET /db/<id>` then `PUT /db/<id>` with the revision read.
 * Worker `w` updates document `w % docCount`: `docCount` = workers gives
 * independent update chains, 1 gives every worker the same document, where a
 * 409 conflict is counted and the worker retries from the GET.
 */
export interface UpdateChainsJob {
  readonly kind: 'updateChains';
  readonly target: LoadTarget;
  readonly db: string;
  readonly workers: number;
  readonly docCount: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly seed: number;
}

export type LoadJob = AutocannonJob | BulkLoadJob | ChangesJob | AllDocsJob | UpdateChainsJob;

export interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Requests (autocannon) or rows / updates (hand-written client) counted over `elapsedMs`. */
export interface LoadResult {
  /** Successful operations: 2xx requests, rows read, documents written, updates committed. */
  readonly operations: number;
  readonly elapsedMs: number;
  readonly latency: Latency;
  /** Requests that failed (non-2xx other than the counted 409s, socket errors). */
  readonly failures: number;
  /** 409 conflicts answered to update chains (retried). */
  readonly conflicts: number;
  /** Requests sent (for the conflict rate). */
  readonly requests: number;
  /** Passes over the data, for the feeds; request-level detail (e.g. batch latency) in `latency`. */
  readonly passes: number;
  /** First failure seen, to explain a short result. */
  readonly firstFailure?: string;
}

export type LoadRequest = { readonly id: number; readonly job: LoadJob };
export type LoadReply =
  | { readonly id: number; readonly result: LoadResult }
  | { readonly id: number; readonly error: string };

// ---- deterministic data ----

/** Bodies cycled through by writers (1,000 distinct ~1 KB orders). */
export const docBodyPoolSize = 1_000;

/** `count` distinct CouchDB-style (32 hex digit) ids from `seed`. */
export function docIds(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const ids = new Set<string>();
  while (ids.size < count) ids.add(randomDocId(random));
  return [...ids];
}

/** `count` ~1 KB documents from `seed` (no `_id`: callers add it where the API wants it). */
export function docBodies(seed: number, count: number): JsonObject[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => makeDoc(random, index));
}
