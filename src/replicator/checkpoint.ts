/**
 * Checkpoints: the `_local/<replication id>` document written to both the
 * source and the target, in CouchDB's shape, so either implementation can
 * resume from the other's record:
 *
 *     {"session_id", "source_last_seq", "replication_id_version",
 *      ["start_time", "end_time", "docs_read", "docs_written", "doc_write_failures"]  (doc_ids only)
 *      "history": [{"session_id", "start_time", "end_time", "start_last_seq",
 *                   "end_last_seq", "recorded_seq", "missing_checked", "missing_found",
 *                   "docs_read", "docs_written", "doc_write_failures",
 *                   "bulk_get_docs", "bulk_get_attempts"}, ...newest first, at most 50]}
 *
 * Where to resume (couch_replicator_scheduler_job:compare_replication_logs):
 * if both records carry the same `session_id`, from `source_last_seq`;
 * otherwise from the newest history entry whose session both histories share
 * (its `recorded_seq`); with none in common, from the start.
 */
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { Seq } from './endpoint.js';
import { lowestSeq } from './endpoint.js';
import { replicationIdVersion } from './replication-id.js';

/** History entries kept in a checkpoint (CouchDB keeps 50). */
export const checkpointHistoryEntriesMax = 50;

export interface ReplicationStats {
  missing_checked: number;
  missing_found: number;
  docs_read: number;
  docs_written: number;
  doc_write_failures: number;
  bulk_get_docs: number;
  bulk_get_attempts: number;
}

export const statNames: readonly (keyof ReplicationStats)[] = [
  'missing_checked',
  'missing_found',
  'docs_read',
  'docs_written',
  'doc_write_failures',
  'bulk_get_docs',
  'bulk_get_attempts',
];

export function emptyStats(): ReplicationStats {
  return {
    missing_checked: 0,
    missing_found: 0,
    docs_read: 0,
    docs_written: 0,
    doc_write_failures: 0,
    bulk_get_docs: 0,
    bulk_get_attempts: 0,
  };
}

/** Counters carry on from the newest history entry, as CouchDB's do. */
export function statsFromHistory(history: readonly JsonValue[]): ReplicationStats {
  const stats = emptyStats();
  const newest = history[0];
  if (!isJsonObject(newest)) return stats;
  for (const name of statNames) {
    const value = newest[name];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) stats[name] = value;
  }
  return stats;
}

export interface ResumePoint {
  readonly startSeq: Seq;
  /** The history the next checkpoint extends. */
  readonly history: readonly JsonValue[];
  /** Whether a common checkpoint was found (else `startSeq` is the lowest). */
  readonly found: boolean;
}

export function compareCheckpoints(sourceLog: JsonObject | undefined, targetLog: JsonObject | undefined): ResumePoint {
  const source = sourceLog ?? {};
  const target = targetLog ?? {};
  if (source['session_id'] === target['session_id']) {
    const seq = source['source_last_seq'];
    const history = source['history'];
    return {
      startSeq: seq ?? lowestSeq,
      history: Array.isArray(history) ? history : [],
      found: seq !== undefined,
    };
  }
  return compareHistories(listOf(source['history']), listOf(target['history']));
}

function compareHistories(sourceHistory: readonly JsonValue[], targetHistory: readonly JsonValue[]): ResumePoint {
  let sourceRest = sourceHistory;
  let targetRest = targetHistory;
  while (sourceRest.length > 0 && targetRest.length > 0) {
    const sourceEntry = objectOf(sourceRest[0]);
    const targetEntry = objectOf(targetRest[0]);
    if (hasSession(sourceEntry['session_id'], targetRest)) {
      return { startSeq: sourceEntry['recorded_seq'] ?? lowestSeq, history: sourceRest.slice(1), found: true };
    }
    if (hasSession(targetEntry['session_id'], sourceRest.slice(1))) {
      return { startSeq: targetEntry['recorded_seq'] ?? lowestSeq, history: targetRest.slice(1), found: true };
    }
    sourceRest = sourceRest.slice(1);
    targetRest = targetRest.slice(1);
  }
  return { startSeq: lowestSeq, history: [], found: false };
}

function hasSession(sessionId: JsonValue | undefined, history: readonly JsonValue[]): boolean {
  return history.some((entry) => objectOf(entry)['session_id'] === sessionId);
}

function listOf(value: JsonValue | undefined): readonly JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function objectOf(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

export interface CheckpointInput {
  readonly sessionId: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly startSeq: Seq;
  readonly throughSeq: Seq;
  readonly stats: ReplicationStats;
  readonly previousHistory: readonly JsonValue[];
  /** Adds CouchDB's top-level doc_ids members. */
  readonly docIdsReplication: boolean;
}

/** The checkpoint body (without `_id`/`_rev`), members in CouchDB's order. */
export function checkpointBody(input: CheckpointInput): JsonObject {
  const entry: JsonObject = {
    session_id: input.sessionId,
    start_time: input.startTime,
    end_time: input.endTime,
    start_last_seq: input.startSeq,
    end_last_seq: input.throughSeq,
    recorded_seq: input.throughSeq,
  };
  for (const name of statNames) entry[name] = input.stats[name];
  const body: JsonObject = {
    session_id: input.sessionId,
    source_last_seq: input.throughSeq,
    replication_id_version: replicationIdVersion,
  };
  if (input.docIdsReplication) {
    body['start_time'] = input.startTime;
    body['end_time'] = input.endTime;
    body['docs_read'] = input.stats.docs_read;
    body['docs_written'] = input.stats.docs_written;
    body['doc_write_failures'] = input.stats.doc_write_failures;
  }
  body['history'] = [entry, ...input.previousHistory].slice(0, checkpointHistoryEntriesMax);
  return body;
}
